import { MemoryAccountStore } from './account-memory-store.ts';
import { runAccountStoreContract } from './account-store.contract.ts';

runAccountStoreContract('MemoryAccountStore', () => Promise.resolve(new MemoryAccountStore()));
