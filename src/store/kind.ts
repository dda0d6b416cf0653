// Which database a Store runs on. ("Dialect" names a webhook format, never this.)
export type DatabaseKind = 'sqlite' | 'postgres';
