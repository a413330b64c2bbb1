import { utcTitle } from './format.ts';

/**
 * A small element builder: the panels build their DOM with it instead of HTML strings, so text that came over the
 * network (alert messages, venue names) is always set as text, never parsed as markup.
 */

export interface ElementProps {
  readonly class?: string;
  /** The `data-testid` of the dashboard's DOM contract (docs/DASHBOARD.md). */
  readonly testid?: string;
  readonly text?: string;
  readonly title?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.testid) element.dataset['testid'] = props.testid;
  if (props.text !== undefined) element.textContent = props.text;
  if (props.title !== undefined) element.title = props.title;
  if (props.attrs) for (const [name, value] of Object.entries(props.attrs)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** A panel's frame: a titled section with a body the panel fills. */
export function panelFrame(
  title: string,
  testid: string,
  area: string,
): { section: HTMLElement; header: HTMLElement; body: HTMLElement } {
  const header = el('header', { class: 'panel-header' }, el('h2', { text: title }));
  const body = el('div', { class: 'panel-body' });
  const section = el('section', { class: `panel panel-${area}`, testid }, header, body);
  return { section, header, body };
}

/** Sets the text only when it changed (a panel redraws often; unchanged text need not touch the DOM). */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** Sets an attribute only when it changed. */
export function setAttr(element: HTMLElement, name: string, value: string): void {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

/** A time in the viewer's zone with the UTC time as its hover text. */
export function timeElement(ms: number, text: string): HTMLTimeElement {
  return el('time', { text, title: utcTitle(ms), attrs: { datetime: new Date(ms).toISOString() } });
}
