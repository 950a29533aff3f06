// Text widget: a text area in, the model's classes out (or what the output part
// `show:` names draws: named values). Every
// edit runs the model on the newest text (coalesced: edits that arrive while
// the model runs collapse into one more run). The model's own TextVectorization
// (or lookup) layer runs in the page (preprocess.js, through the runtime), and
// "Show tokens" lists what it makes of the text: what the model sees.
import { registerWidget } from "./runtime.js";
import { showTopK, toProbabilities } from "./topk.js";

// Tokens listed at most: a long text split into characters would flood the page.
const MAX_SHOWN_TOKENS = 200;

class TextWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = ctx.el;
    this.area = this.el.querySelector(".tfjs-text-area");
    this.toggle = this.el.querySelector(".tfjs-text-toggle");
    this.tokensBox = this.el.querySelector(".tfjs-text-tokens");
    this.samples = [...this.el.querySelectorAll(".tfjs-text-sample")];
    this.last = null;
    this.update = ctx.coalesce(() => this.predictOnce());
    this.onInput = () => this.update();
    this.onSample = (event) => {
      const button = event.target.closest(".tfjs-text-sample");
      if (!button) return;
      this.area.value = ctx.config.samples[Number(button.dataset.index)];
      this.update();
    };
    this.onToggle = () => {
      const open = this.toggle.getAttribute("aria-expanded") !== "true";
      this.toggle.setAttribute("aria-expanded", String(open));
      this.toggle.textContent = open ? "Hide tokens" : "Show tokens";
      this.tokensBox.hidden = !open;
      if (open) this.showTokens(this.last ? this.last.text : this.area.value);
    };
    this.area.addEventListener("input", this.onInput);
    this.el.addEventListener("click", this.onSample);
    this.toggle.addEventListener("click", this.onToggle);
  }

  async prepare() {
    if (this.ctx.config.output) this.output = await this.ctx.outputPart();
    [this.area, this.toggle, ...this.samples].forEach((control) => { control.disabled = false; });
    await this.update();
  }

  readyText() {
    return "Type in the text box, or pick an example; the model answers as you type.";
  }

  row(text) {
    return this.ctx.config.rowRank === 1 ? [text] : text;
  }

  async predictOnce() {
    const text = this.area.value;
    let output;
    try {
      output = await this.ctx.predict([this.row(text)]);
    } catch (err) {
      // The answer to an earlier text would pass for the answer to this one.
      this.last = null;
      if (!this.output) this.el.querySelector(".tfjs-topk").replaceChildren();
      else if (this.output.clear) this.output.clear();
      throw err;
    }
    this.last = { text, output: output[0] };
    if (!this.tokensBox.hidden) this.showTokens(text);
    if (this.output) {
      this.ctx.status(this.output.show(output[0]));
      return;
    }
    const { labels, outputs, topk } = this.ctx.config;
    const list = this.el.querySelector(".tfjs-topk");
    const ranked = showTopK(list, toProbabilities(output[0], outputs), labels, topk);
    this.ctx.status(ranked.map(([p, i]) => labels[i] + " " + (100 * p).toFixed(1) + "%").join(", ") + ".");
  }

  // The tokens the model's own layer makes of the text, with their indices; an
  // out-of-vocabulary token is marked, and so are tokens past the sequence length.
  tokens(text) {
    const pre = this.ctx.preprocessor(0);
    return pre ? pre.tokens(this.row(text)) : [];
  }

  showTokens(text) {
    const pre = this.ctx.preprocessor(0);
    const tokens = this.tokens(text);
    const length = pre && pre.sequenceLength;
    const items = tokens.slice(0, MAX_SHOWN_TOKENS).map(({ token, index }, i) => {
      const item = document.createElement("li");
      item.className = "tfjs-text-token";
      const oov = pre.isOov(index);
      item.dataset.oov = String(oov);
      item.dataset.cut = String(length != null && i >= length);
      const word = document.createElement("span");
      word.textContent = token;
      const number = document.createElement("span");
      number.className = "tfjs-text-token-index";
      number.textContent = oov ? index + " (unknown)" : String(index);
      item.append(word, number);
      return item;
    });
    this.el.querySelector(".tfjs-text-token-list").replaceChildren(...items);
    let note = tokens.length === 1 ? "1 token" : tokens.length + " tokens";
    if (length != null && tokens.length > length) note += "; the model reads the first " + length;
    if (tokens.length > MAX_SHOWN_TOKENS) note += "; the first " + MAX_SHOWN_TOKENS + " shown";
    this.el.querySelector(".tfjs-text-tokens-note").textContent = note + ".";
  }

  // For tests and authors: the text, its tokens, and what the model returned.
  inspect() {
    return this.last ? { ...this.last, tokens: this.tokens(this.last.text) } : null;
  }

  dispose() {
    if (this.output && this.output.dispose) this.output.dispose();
    this.area.removeEventListener("input", this.onInput);
    this.el.removeEventListener("click", this.onSample);
    this.toggle.removeEventListener("click", this.onToggle);
  }
}

registerWidget("text", TextWidget);
