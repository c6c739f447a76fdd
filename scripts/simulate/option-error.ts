/** A bad command-line option: the message says what to change (exit 2, one line). */
export class OptionError extends Error {}
