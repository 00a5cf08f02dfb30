import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

/*
 * jsdom has no layout: give elements the size of a laptop window so the virtualised table renders
 * rows, and let scrollTo move scrollTop as a browser would.
 */
Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 440 });
Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });
// A scroll container is as tall as its (absolutely sized) content, as in a browser.
Object.defineProperty(HTMLElement.prototype, 'scrollHeight', {
  configurable: true,
  get(this: HTMLElement) {
    const content = Number.parseFloat((this.firstElementChild as HTMLElement | null)?.style.height ?? '');
    return Number.isFinite(content) ? Math.max(content, this.clientHeight) : this.clientHeight;
  },
});
const scrollTops = new WeakMap<Element, number>();
Object.defineProperty(Element.prototype, 'scrollTop', {
  configurable: true,
  get(this: Element) {
    return scrollTops.get(this) ?? 0;
  },
  set(this: Element, value: number) {
    scrollTops.set(this, value);
  },
});
Element.prototype.scrollTo = function scrollTo(this: Element, options?: ScrollToOptions | number) {
  if (typeof options === 'object' && options.top !== undefined) this.scrollTop = options.top;
  this.dispatchEvent(new Event('scroll'));
} as Element['scrollTo'];

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});
