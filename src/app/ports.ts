/** What a use case needs from the store: parametrised SQL, nothing else. */
export interface Sql {
  query<T extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction; retried on serialization failure or deadlock (PostgreSQL only). */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** The only source of time for use cases; tests move it by hand. */
export interface Clock {
  now(): Date;
}

/** Identifiers and secrets: the only source of randomness for use cases. */
export interface Ids {
  /** A sortable id with a type prefix, e.g. `cus_01j...`. Later ids sort after earlier ones. */
  id(prefix: string): string;
  /** A secret with a prefix and `bits` of randomness from a cryptographic source. */
  secret(prefix: string, bits: number): string;
}

export interface Deps {
  db: Db;
  clock: Clock;
  ids: Ids;
}
