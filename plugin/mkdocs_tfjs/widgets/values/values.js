// The `values` output part: the model's [1, m] output as m named numbers, each
// with its decimals and unit; the exact value is kept in data-value.

export function formatValue(value, decimals, unit) {
  return value.toFixed(decimals) + (unit ? " " + unit : "");
}

export default class ValuesOutput {
  constructor(el, config) {
    this.list = el.querySelector(".tfjs-values");
    this.config = config;
  }

  // `output`: the model's output for one example, m numbers. Returns the status text.
  show(output) {
    const { labels, decimals, unit } = this.config;
    const texts = output.map((v) => formatValue(v, decimals, unit));
    const rows = output.map((v, i) => {
      const row = document.createElement("div");
      row.className = "tfjs-value";
      row.dataset.value = String(v);
      const name = document.createElement("dt");
      name.textContent = labels[i];
      const shown = document.createElement("dd");
      shown.textContent = texts[i];
      row.append(name, shown);
      return row;
    });
    this.list.replaceChildren(...rows);
    return labels.map((label, i) => label + ": " + texts[i]).join(", ") + ".";
  }

  // No answer for the newest input: earlier values would pass for its.
  clear() {
    this.list.replaceChildren();
  }
}
