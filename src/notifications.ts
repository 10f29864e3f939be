/** A notification with string attributes that subscribers can filter on (type, customer, level, ...). */
export interface Notification {
  readonly subject: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Port that domain code publishes through; the SNS adapter (src/notify/sns.ts), or a printer in the demo. */
export type Publisher = (notification: Notification) => Promise<{ messageId: string }>;
