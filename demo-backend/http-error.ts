/** An error fastify turns into a response with this status and the message in the JSON body. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads an integer query parameter, or fails with a 400 naming it. */
export function integerParam(
  params: Record<string, string | undefined>,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const text = params[name];
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= range.min && value <= range.max)) {
    throw new HttpError(400, `parameter "${name}" must be a whole number from ${range.min} to ${range.max}, got "${text}"`);
  }
  return value;
}

export function requiredIntegerParam(
  params: Record<string, string | undefined>,
  name: string,
  range: { min: number; max: number },
): number {
  const value = integerParam(params, name, range);
  if (value === undefined) throw new HttpError(400, `parameter "${name}" is required`);
  return value;
}
