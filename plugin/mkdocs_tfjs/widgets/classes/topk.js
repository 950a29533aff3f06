// The top-k list shared by the classifier widgets: label, bar, percentage.

// What the model returns is declared at build time (`outputs` in the widget's
// configuration): "probabilities" are shown as they are, "logits" through a softmax.
export function toProbabilities(values, outputs) {
  if (outputs !== "logits") return values;
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

// Fill `list` with the k most probable classes; returns [[probability, index], ...].
export function showTopK(list, probabilities, labels, k) {
  const ranked = probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, k);
  const items = ranked.map(([p, i]) => {
    const item = document.createElement("li");
    item.className = "tfjs-topk-item";
    item.dataset.probability = String(p);
    const label = document.createElement("span");
    label.className = "tfjs-topk-label";
    label.textContent = labels[i];
    const bar = document.createElement("span");
    bar.className = "tfjs-bar";
    const fill = document.createElement("span");
    fill.className = "tfjs-bar-fill";
    fill.style.width = (100 * p).toFixed(1) + "%";
    bar.append(fill);
    const value = document.createElement("span");
    value.className = "tfjs-topk-value";
    value.textContent = (100 * p).toFixed(1) + "%";
    item.append(label, bar, value);
    return item;
  });
  list.replaceChildren(...items);
  return ranked;
}
