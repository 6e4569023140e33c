/** Acceptance 3 with the agents' self-fencing watchdog off: the downstream term check alone keeps the woken agent out. */
import { fencingScenario } from './fencing-scenario.ts';

fencingScenario(false);
