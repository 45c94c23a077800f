/**
 * A problem with what the user gave us (files, parameters, data). The CLI prints its one-line message
 * and exits with code 2; any other exception is an internal error (exit code 1).
 * The message names the file (or parameter), the field and what was expected.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Builds the conventional message: "<where>: <field>: <problem>". */
export function userError(where: string, field: string, problem: string): UserError {
  return new UserError(`${where}: ${field}: ${problem}`);
}
