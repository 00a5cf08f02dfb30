import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';

/**
 * How the last navigation came about, from the Navigation API where the browser has it (Chromium,
 * so Electron too): 'traverse' for Back and Forward, 'push' or 'replace' for a link or navigate().
 */
let lastNavigationType: string | undefined;
const navigationApi = (globalThis as { navigation?: EventTarget }).navigation;
navigationApi?.addEventListener('currententrychange', (event) => {
  lastNavigationType = (event as Event & { navigationType?: string | null }).navigationType ?? undefined;
});

/**
 * The screens share one scrolling container, so a screen opened from a scrolled one began scrolled
 * (its title cut off). Each address remembers where it was scrolled to: Back and Forward return there;
 * any other way of opening a screen starts at its top.
 */
export function useScreenScroll(container: RefObject<HTMLElement | null>, address: string): void {
  const positions = useRef(new Map<string, number>());
  const shown = useRef(address);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    // Kept as the user scrolls: by the time the address changes, the next screen has replaced the content.
    const remember = () => positions.current.set(shown.current, element.scrollTop);
    element.addEventListener('scroll', remember, { passive: true });
    return () => element.removeEventListener('scroll', remember);
  }, [container]);

  useLayoutEffect(() => {
    const element = container.current;
    if (!element || shown.current === address) return;
    shown.current = address;
    element.scrollTop = lastNavigationType === 'traverse' ? (positions.current.get(address) ?? 0) : 0;
  }, [container, address]);
}
