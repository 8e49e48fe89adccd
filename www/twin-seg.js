// <twin-seg>: puts the twinseg app into any page as an iframe.
//
//   <script type="module" src="https://APP-HOST/twin-seg.js"></script>
//   <twin-seg image="cat.png" model="enc.onnx,dec.onnx" query="the cat" height="560"></twin-seg>
//
// Attributes (all optional): image, model ("ENCODER,DECODER" or "builtin"),
// encoder and decoder (instead of model), query, height (pixels or a CSS
// length), app (the app's address; by default the folder this script was
// loaded from). Relative addresses are resolved against the host page.
// Only the attribute values go into the iframe's address, escaped by
// URLSearchParams; the element reads nothing else from the host page, and it
// is the app in the iframe that fetches the image.

const DEFAULT_APP = new URL('./', import.meta.url).href;
const DEFAULT_HEIGHT = '600px';
const ADDRESS_ATTRIBUTES = ['image', 'encoder', 'decoder'];
const TEXT_ATTRIBUTES = ['query'];

/** An address attribute made absolute against the host page. */
function absolute(value) {
  try {
    return new URL(value.trim(), document.baseURI).href;
  } catch {
    return value;
  }
}

/** The `model` attribute: "builtin", or two addresses separated by a comma. */
function modelValue(value) {
  const trimmed = value.trim();
  if (trimmed === 'builtin' || !trimmed.includes(',')) return trimmed;
  return trimmed
    .split(',')
    .slice(0, 2)
    .map((part) => absolute(part))
    .join(',');
}

/** A height attribute as a CSS length: bare numbers are pixels. */
function cssHeight(value) {
  if (value === null || value.trim() === '') return DEFAULT_HEIGHT;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return `${trimmed}px`;
  return CSS.supports('height', trimmed) ? trimmed : DEFAULT_HEIGHT;
}

/** The iframe address for the element's current attributes. */
export function appAddress(element) {
  const app = new URL(element.getAttribute('app') ?? DEFAULT_APP, document.baseURI);
  const params = new URLSearchParams();
  params.set('embed', '1');
  for (const name of ADDRESS_ATTRIBUTES) {
    const value = element.getAttribute(name);
    if (value !== null && value.trim() !== '') params.set(name, absolute(value));
  }
  const model = element.getAttribute('model');
  if (model !== null && model.trim() !== '') params.set('model', modelValue(model));
  for (const name of TEXT_ATTRIBUTES) {
    const value = element.getAttribute(name);
    if (value !== null && value.trim() !== '') params.set(name, value);
  }
  app.search = params.toString();
  app.hash = '';
  return app.href;
}

/** The custom element; it renders one iframe in its shadow root. */
export class TwinSeg extends HTMLElement {
  static observedAttributes = ['app', 'image', 'model', 'encoder', 'decoder', 'query', 'height'];

  constructor() {
    super();
    this.frame = document.createElement('iframe');
    this.frame.title = 'twinseg: segment an image by asking in words';
    this.frame.referrerPolicy = 'no-referrer';
    this.frame.allow = 'clipboard-read; clipboard-write';
    Object.assign(this.frame.style, { display: 'block', width: '100%', border: '0' });
    this.attachShadow({ mode: 'open' }).append(this.frame);
  }

  connectedCallback() {
    this.render();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.render();
  }

  /** Points the iframe at the app with the current attributes. */
  render() {
    this.style.display = 'block';
    this.frame.style.height = cssHeight(this.getAttribute('height'));
    const address = appAddress(this);
    if (this.frame.getAttribute('src') !== address) this.frame.setAttribute('src', address);
  }
}

if (!customElements.get('twin-seg')) customElements.define('twin-seg', TwinSeg);
