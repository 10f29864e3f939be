export function bundleLambda(entry: string, outfile: string, options?: { metafile?: string }): string;
