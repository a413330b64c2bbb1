import { el } from './dom.ts';

/**
 * Where a trader gives the account token (`token-input`, `token-apply`; a token in the URL's `#token=` is
 * applied at load). The field is a password field: the token is a credential and screens get shared. Applying an
 * empty field signs out.
 */
export class TokenForm {
  readonly element: HTMLFormElement;
  private readonly input = el('input', {
    class: 'token-input',
    testid: 'token-input',
    attrs: {
      type: 'password',
      placeholder: 'account token',
      autocomplete: 'off',
      'aria-label': 'Account token',
    },
  });
  private readonly listeners = new Set<(token: string | undefined) => void>();

  constructor() {
    const apply = el('button', { testid: 'token-apply', text: 'Apply', attrs: { type: 'submit' } });
    this.element = el('form', { class: 'token-form' }, this.input, apply);
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      this.emit(this.input.value.trim() || undefined);
    });
  }

  onApply(listener: (token: string | undefined) => void): void {
    this.listeners.add(listener);
  }

  /** Applies a token that came from elsewhere (the URL) as if typed. */
  apply(token: string): void {
    this.input.value = token;
    this.emit(token);
  }

  private emit(token: string | undefined): void {
    for (const listener of this.listeners) listener(token);
  }
}
