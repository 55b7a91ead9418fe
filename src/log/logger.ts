/**
 * A small structured logger: one line per event, JSON by default (`log.formatter: json`) or
 * `key=value` text. No global instance: whoever needs one is handed one.
 */

/** Log levels, least to most severe. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Extra fields attached to a log line. */
export type Fields = Record<string, unknown>;

/** The logging interface passed around the app. */
export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger;
}

/** Options of createLogger. */
export interface LoggerOptions {
  level: Level;
  formatter: 'json' | 'text';
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
}

const RANK: Readonly<Record<Level, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Creates a logger. */
export function createLogger(options: LoggerOptions, bound: Fields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const threshold = RANK[options.level];
  const format = options.formatter === 'json' ? formatJson : formatText;

  const emit = (level: Level) => (message: string, fields?: Fields) => {
    if (RANK[level] < threshold) return;
    write(`${format(level, message, { ...bound, ...fields })}\n`);
  };

  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger({ ...options, write }, { ...bound, ...fields }),
  };
}

function formatJson(level: Level, message: string, fields: Fields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }, errorReplacer);
}

function formatText(level: Level, message: string, fields: Fields): string {
  const pairs = Object.entries(fields).map(
    ([key, value]) => `${key}=${SECRET_FIELD.test(key) ? '[redacted]' : textValue(value)}`,
  );
  return [new Date().toISOString(), level.toUpperCase(), JSON.stringify(message), ...pairs].join(' ');
}

function textValue(value: unknown): string {
  if (typeof value === 'string' && /^[^\s"=]+$/.test(value)) return value;
  return JSON.stringify(value, errorReplacer) ?? 'undefined';
}

/** Field names whose values are credentials; whatever logs them, the line says only that. */
const SECRET_FIELD =
  /^(authorization|proxy-authorization|cookie|password|secret|token|access_token|refresh_token)$/i;

function errorReplacer(key: string, value: unknown): unknown {
  if (SECRET_FIELD.test(key) && value !== undefined) return '[redacted]';
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
