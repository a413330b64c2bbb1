/**
 * V8 settings of the `tickwire` process, applied when main.ts loads this module first (before any other module of
 * Tickwire runs): every role and command gets them, the simulator and PGlite threads of the process too.
 *
 * Allocation-site pretenuring off. V8 watches the objects each object or array literal creates and, once most of
 * them outlived two young-generation collections, creates that literal's later objects straight in the old
 * generation. Tickwire's start-up keeps much of what it creates (history pages decoded into bars and decimals that
 * live until stored); with pretenuring, literals the live path shares with it then made every frame's short-lived
 * objects in the old generation, where, dead, they also kept the young objects they pointed to through young
 * collections. An idle `tickwire all` grew its old generation by about 0.3 MB a second and ran a full collection
 * every 19 s; without, 30–40 KB a second and one a minute, and 16–29 % less CPU (docs/PERFORMANCE.md, "Idle
 * CPU"). V8 reads this flag at each collection and each optimized compile, so set here, before Tickwire has
 * created anything, it acts as on the command line.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
