/**
 * The venue contract (venue.contract.ts) for every venue of the registry. A venue's folder supplies what the suite
 * needs beyond its registry entry in contract.test-support.ts; a registered venue without it fails here.
 */
import { it } from 'node:test';
import { venueModules } from './registry.ts';
import { venueContract, type VenueContractSubject } from './venue.contract.ts';

for (const venue of venueModules()) {
  const support = `./${venue.id}/contract.test-support.ts`;
  let subject: VenueContractSubject | undefined;
  try {
    ({ contractSubject: subject } = (await import(support)) as { contractSubject?: VenueContractSubject });
  } catch (err) {
    it(`venue contract: ${venue.id} has its contract support`, () => {
      throw new Error(`cannot load src/venues/${venue.id}/contract.test-support.ts`, { cause: err });
    });
    continue;
  }
  if (subject === undefined) {
    it(`venue contract: ${venue.id} has its contract support`, () => {
      throw new Error(`src/venues/${venue.id}/contract.test-support.ts exports no contractSubject`);
    });
    continue;
  }
  venueContract(venue, subject);
}
