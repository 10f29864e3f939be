export function bundleLambda(entry: string, outfile: string): string;
