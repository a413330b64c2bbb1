/**
 * The venue contract (venue.contract.ts) for every venue of the registry. A venue's folder supplies what the suite
 * needs beyond its registry entry in contract.test-support.ts; a registered venue without it fails here.
 *
 * Each venue's suite runs against a simulator of its own, and most of it is waiting for the venue (reconnects,
 * heartbeat deadlines, a stall): the venues' suites run side by side, the tests within one in turn.
 */
import { describe, it } from 'node:test';
import { venueModules } from './registry.ts';
import { venueContract, type VenueContractSubject } from './venue.contract.ts';

type Loaded =
  | { readonly venue: ReturnType<typeof venueModules>[number]; readonly subject: VenueContractSubject }
  | { readonly venue: ReturnType<typeof venueModules>[number]; readonly problem: Error };

const loaded: Loaded[] = [];
for (const venue of venueModules()) {
  const support = `./${venue.id}/contract.test-support.ts`;
  try {
    const { contractSubject: subject } = (await import(support)) as {
      contractSubject?: VenueContractSubject;
    };
    loaded.push(
      subject === undefined
        ? {
            venue,
            problem: new Error(`src/venues/${venue.id}/contract.test-support.ts exports no contractSubject`),
          }
        : { venue, subject },
    );
  } catch (err) {
    loaded.push({
      venue,
      problem: new Error(`cannot load src/venues/${venue.id}/contract.test-support.ts`, { cause: err }),
    });
  }
}

// The option is inherited: each venue's own suite sets it back to one at a time.
describe('venue contracts', { concurrency: true }, () => {
  for (const entry of loaded) {
    if ('problem' in entry) {
      it(`venue contract: ${entry.venue.id} has its contract support`, () => {
        throw entry.problem;
      });
      continue;
    }
    // One at a time within a venue: its tests share the venue's simulator and stream.
    describe(entry.venue.id, { concurrency: 1 }, () => venueContract(entry.venue, entry.subject));
  }
});
