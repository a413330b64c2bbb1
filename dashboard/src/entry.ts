import { TickwireClient } from '../../src/client/index.ts';
import { startDashboard } from './main.ts';

/** The page's start: the dashboard over the client library (`tickwire/client`). */
const root = document.getElementById('app');
if (root) startDashboard(root, (options) => new TickwireClient(options));
