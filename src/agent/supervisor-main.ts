/**
 * The detached supervisor process: `node supervisor-main.js ROOT ID`, started by `run -d` in a
 * session of its own with an IPC channel to the agent. It tells the agent once the container
 * runs (or why it could not start), lets go of the channel, and supervises to the end.
 */
import { agentLayout } from './layout.js';
import { superviseContainer } from './supervisor.js';

/** What the supervisor tells the agent that started it. */
export type SupervisorMessage =
  | { type: 'started' }
  | { type: 'exited'; exitCode: number; startError?: string }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const [root, id] = process.argv.slice(2);
  if (!root || !id) throw new Error('usage: supervisor-main.js ROOT ID');
  let told = false;
  const tell = (message: SupervisorMessage) => {
    if (told || !process.send) return;
    told = true;
    // Once the agent has its answer the channel goes, so the agent can exit without us.
    process.send(message, () => process.disconnect());
  };
  try {
    const result = await superviseContainer(agentLayout(root), id, {
      onStarted: () => tell({ type: 'started' }),
    });
    tell({ type: 'exited', ...result });
  } catch (error) {
    tell({ type: 'error', message: (error as Error).message });
    throw error;
  }
}

main().catch((error: Error) => {
  process.stderr.write(`berth-agent supervisor: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
