"""Running the pipeline on a batch cluster (Slurm) over the shared DVC remote and its run-cache.

LCE schedules nothing itself: :mod:`lce.cluster.plan` splits ``dvc.yaml``'s stage graph into a
probe job, one array task per model and an integrator; :mod:`lce.cluster.slurm` writes them as
batch scripts chained with ``--dependency=afterok``; :mod:`lce.cluster.status` reads back which
task holds which model and how it ended. Slurm queues, retries and accounts; DVC's run-cache makes
a resubmitted task restore whatever was already pushed.
"""
