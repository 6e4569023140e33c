/** Acceptance 3: SIGSTOP the bound agent past the lease, let the source move, SIGCONT it (see fencing-scenario.ts). */
import { fencingScenario } from './fencing-scenario.ts';

fencingScenario(true);
