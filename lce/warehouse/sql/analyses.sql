-- Canned analyses behind `lce models|concepts|units|compare`. Each starts with `-- name: NAME`;
-- values come in only as $parameters, never spliced into the text. Those about models read one
-- probe set ($probe): counts of two probe sets do not add up to anything.

-- name: models
-- One row per model: where it comes from, what was profiled, how much of it is interpretable.
SELECT m.model, m.display_name, m.origin, m.arch, m.method, u.probe,
       string_agg(DISTINCT u.layer, ',' ORDER BY u.layer) AS layers,
       count(*) AS units,
       count(*) FILTER (WHERE u.interpretable) AS interpretable,
       count(DISTINCT u.label) FILTER (WHERE u.interpretable) AS concepts,
       any_value(c.category) AS lce_category
FROM models m
JOIN units u USING (model)
LEFT JOIN model_categories c USING (model)
GROUP BY m.model, m.display_name, m.origin, m.arch, m.method, u.probe
ORDER BY m.model, u.probe;

-- name: concepts
-- The concepts a model's interpretable units detect, most units first.
SELECT label AS concept, category, count(*) AS units, round(avg(iou), 4) AS mean_iou,
       round(max(iou), 4) AS max_iou, string_agg(DISTINCT layer, ',' ORDER BY layer) AS layers
FROM units
WHERE model = $model AND probe = $probe AND interpretable AND label IS NOT NULL
  AND ($layer IS NULL OR layer = $layer)
GROUP BY label, category
ORDER BY units DESC, max_iou DESC, concept
LIMIT $top;

-- name: units
-- A model's units with their best label, best first; optionally only one concept's units,
-- named plainly (`food`) or with its category (`food (object)`, for a name in two categories).
SELECT layer, unit, label, category, round(iou, 4) AS iou, interpretable,
       round(threshold, 6) AS threshold, round(null_iou, 4) AS null_iou
FROM units
WHERE model = $model AND probe = $probe
  AND ($concept IS NULL OR label = $concept OR label || ' (' || category || ')' = $concept)
  AND ($layer IS NULL OR layer = $layer)
ORDER BY iou DESC, layer, unit
LIMIT $top;

-- name: compare
-- Concepts of two models side by side: shared ones first, then those only one model has.
WITH a AS (SELECT label, category, count(*) AS n FROM units
           WHERE model = $a AND probe = $probe AND interpretable AND label IS NOT NULL
           GROUP BY ALL),
     b AS (SELECT label, category, count(*) AS n FROM units
           WHERE model = $b AND probe = $probe AND interpretable AND label IS NOT NULL
           GROUP BY ALL)
SELECT coalesce(a.label, b.label) AS concept, coalesce(a.category, b.category) AS category,
       coalesce(a.n, 0) AS units_a, coalesce(b.n, 0) AS units_b,
       CASE WHEN a.n IS NOT NULL AND b.n IS NOT NULL THEN 'shared'
            WHEN a.n IS NOT NULL THEN 'only ' || $a ELSE 'only ' || $b END AS status
FROM a FULL OUTER JOIN b ON a.label = b.label AND a.category = b.category
ORDER BY (a.n IS NULL OR b.n IS NULL), category, concept;
