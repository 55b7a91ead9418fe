/**
 * `berth agent ps [-a]`: containers as rows, and Docker's table layout for them
 * (CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES).
 */
import { type ContainerStatus, containerStatus, listContainerRecords, shortId } from './containers.js';
import type { AgentLayout } from './layout.js';
import { runcList } from './runc.js';

/** One `ps` row. */
export interface ContainerSummary {
  id: string;
  image: string;
  command: string;
  /** Epoch milliseconds. */
  createdAt: number;
  status: ContainerStatus;
  /** `127.0.0.1:8080->80/tcp` for each published port. */
  ports: string[];
  name: string;
  /** The container's address with `--network bridge`. */
  address?: string;
}

/** Containers, newest first: running ones only, or all with `all`. */
export async function listContainers(
  layout: AgentLayout,
  options: { all?: boolean } = {},
): Promise<ContainerSummary[]> {
  const [records, states] = await Promise.all([listContainerRecords(layout), runcList(layout)]);
  const byId = new Map(states.map((state) => [state.id, state]));
  const rows: ContainerSummary[] = [];
  for (const record of records) {
    const status = await containerStatus(layout, record.id, byId.get(record.id) ?? null);
    if (!options.all && status.state !== 'running' && status.state !== 'paused') continue;
    rows.push({
      id: record.id,
      image: record.image,
      command: record.args.join(' '),
      createdAt: Date.parse(record.createdAt),
      status,
      ports: record.options.ports.map((port) => `127.0.0.1:${port.hostPort}->${port.containerPort}/tcp`),
      name: record.name,
      ...(record.lease ? { address: record.lease.containerAddress } : {}),
    });
  }
  return rows;
}

/** The `ps` table, as Docker prints it, with times relative to `now` (epoch ms). */
export function formatContainerTable(rows: ContainerSummary[], now: number): string {
  const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
  const cells = rows.map((row) => [
    shortId(row.id),
    row.image,
    `"${truncate(row.command, 20)}"`,
    `${humanDuration(now - row.createdAt)} ago`,
    statusText(row.status, now),
    row.ports.join(', '),
    row.name,
  ]);
  const widths = header.map((title, n) =>
    Math.max(title.length, ...cells.map((line) => (line[n] ?? '').length)),
  );
  const render = (line: string[]) =>
    line
      .map((cell, n) => (n === line.length - 1 ? cell : cell.padEnd((widths[n] ?? 0) + 3)))
      .join('')
      .trimEnd();
  return `${[header, ...cells].map(render).join('\n')}\n`;
}

/** `Up 3 seconds`, `Exited (0) 5 seconds ago`, `Created`, as Docker words it. */
export function statusText(status: ContainerStatus, now: number): string {
  switch (status.state) {
    case 'running':
      return `Up ${humanDuration(now - (status.startedAt ?? now))}`;
    case 'paused':
      return `Up ${humanDuration(now - (status.startedAt ?? now))} (Paused)`;
    case 'exited':
      return `Exited (${status.exitCode}) ${humanDuration(now - (status.finishedAt ?? now))} ago`;
    default:
      return 'Created';
  }
}

/** Docker's (go-units) HumanDuration: "Less than a second", "3 seconds", "About a minute"... */
export function humanDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
