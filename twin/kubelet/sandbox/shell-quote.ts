/** One word for /bin/sh, single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Words for /bin/sh, each quoted. */
export function shellWords(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
