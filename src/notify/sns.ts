import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Publisher } from '../notifications.js';

export function snsPublisher(sns: SNSClient, topicArn: string): Publisher {
  return async (notification) => {
    const result = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        // SNS subjects: ASCII, no newlines, at most 100 characters.
        Subject: notification.subject.replace(/[^\x20-\x7e]/g, '').slice(0, 100),
        Message: notification.message,
        MessageAttributes: Object.fromEntries(Object.entries(notification.attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }])),
      }),
    );
    return { messageId: result.MessageId ?? '' };
  };
}
