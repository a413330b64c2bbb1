/**
 * How simulated trader accounts are configured (simulator options `bitget.accounts` and `dydx.accounts`), and the
 * demo accounts used when none are given. The demo credentials are fake and public: they only open the
 * simulator's own private API, never a real exchange.
 */

/** Options of the seeded trader that moves a demo account; `false` turns it off (tests place orders themselves). */
export interface SimTraderConfig {
  /** Mean time between two actions; default 45 s. */
  readonly meanIntervalMs?: number;
}

interface SimAccountCommon {
  /** Starting balance of the margin currency (USDT on Bitget, USDC on dYdX); default "10000". */
  readonly balance?: string;
  /** Leverage of new positions; default 10 (Bitget) or 5 (dYdX). */
  readonly leverage?: number;
  readonly trader?: SimTraderConfig | false;
}

/** A Bitget account: the API key triple it logs in with (REST and the private socket). */
export interface SimBitgetAccountConfig extends SimAccountCommon {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
  /** Spot balances per coin; default { USDT: "2500", BTC: "0.05" }. */
  readonly spot?: Readonly<Record<string, string>>;
  /** Margin mode of new futures positions; default crossed. */
  readonly marginMode?: 'cross' | 'isolated';
}

/** A dYdX subaccount: public by address, no credentials. */
export interface SimDydxAccountConfig extends SimAccountCommon {
  readonly address: string;
  readonly subaccountNumber: number;
}

/** Accounts every `tickwire sim` serves unless told otherwise. */
export const demoAccounts = {
  bitget: [
    {
      apiKey: 'bg_simdemo_0000000000000000000000',
      secret: 'simdemo-secret-not-a-real-key',
      passphrase: 'simdemo',
    },
  ] as readonly SimBitgetAccountConfig[],
  dydx: [
    { address: 'dydx1wqhv93j6cs35xhqmz2rqmwzrjh4k2uafj9xjgx', subaccountNumber: 0 },
  ] as readonly SimDydxAccountConfig[],
} as const;

/** The banner lines that name the demo accounts (shell comments). */
export function demoAccountLines(): string[] {
  const b = demoAccounts.bitget[0];
  const d = demoAccounts.dydx[0];
  const lines: string[] = [];
  if (b !== undefined)
    lines.push(`# Demo Bitget account (fake): key ${b.apiKey} secret ${b.secret} passphrase ${b.passphrase}`);
  if (d !== undefined)
    lines.push(`# Demo dYdX account: address ${d.address} subaccount ${d.subaccountNumber}`);
  return lines;
}
