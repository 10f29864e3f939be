import { describe, expect, it } from 'vitest';
import { parseTemplate, referencedIds, withoutResources } from '../support/cloudformation.js';

/** The template reader the infrastructure tests rely on: short-form tags, references, and pruning for emulators. */
describe('parseTemplate', () => {
  it('turns every CloudFormation short-form tag into its long form', () => {
    const template = parseTemplate(`
Resources:
  R:
    Type: T
    Properties:
      ref: !Ref Param
      sub: !Sub 'arn:\${AWS::Partition}:x:\${Other}'
      subWithVars: !Sub ['\${A}-\${B}', { B: !Ref Param }]
      getAttDotted: !GetAtt Fn.Arn
      getAttList: !GetAtt [Fn, Arn]
      if: !If [Cond, !Equals [a, b], !Not [!Condition Other]]
      logic: !And [!Or [!Condition A, !Condition B], !Condition C]
      join: !Join [',', !Split ['|', !Select [0, !GetAZs '']]]
      misc: [!FindInMap [M, k, v], !ImportValue exported, !Base64 text, !Cidr [10.0.0.0/16, 2, 8]]
`);
    expect(template.Resources.R?.Properties).toEqual({
      ref: { Ref: 'Param' },
      sub: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${Other}' },
      subWithVars: { 'Fn::Sub': ['${A}-${B}', { B: { Ref: 'Param' } }] },
      getAttDotted: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      getAttList: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      if: { 'Fn::If': ['Cond', { 'Fn::Equals': ['a', 'b'] }, { 'Fn::Not': [{ Condition: 'Other' }] }] },
      logic: { 'Fn::And': [{ 'Fn::Or': [{ Condition: 'A' }, { Condition: 'B' }] }, { Condition: 'C' }] },
      join: { 'Fn::Join': [',', { 'Fn::Split': ['|', { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }] }] },
      misc: [{ 'Fn::FindInMap': ['M', 'k', 'v'] }, { 'Fn::ImportValue': 'exported' }, { 'Fn::Base64': 'text' }, { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] }],
    });
  });

  it('finds references through Ref, GetAtt, Sub placeholders and DependsOn, not pseudo parameters or Sub variables', () => {
    const node = {
      a: { Ref: 'X' },
      b: { 'Fn::GetAtt': ['Y', 'Arn'] },
      c: { 'Fn::Sub': ['${Z.Arn}/${V}:${AWS::Region}', { V: { Ref: 'W' } }] },
      DependsOn: ['D'],
    };
    expect([...referencedIds(node)].sort()).toEqual(['D', 'W', 'X', 'Y', 'Z']);
  });
});

describe('withoutResources', () => {
  it('drops the selected resources and, transitively, whatever refers to them', () => {
    const template = parseTemplate(`
Resources:
  Api: { Type: AWS::ApiGatewayV2::Api }
  Route: { Type: AWS::ApiGatewayV2::Route, Properties: { ApiId: !Ref Api } }
  Permission: { Type: AWS::Lambda::Permission, Properties: { SourceArn: !Sub '\${Route}/x' } }
  Table: { Type: AWS::DynamoDB::Table }
Outputs:
  Url: { Value: !GetAtt Api.ApiEndpoint }
  TableName: { Value: !Ref Table }
`);
    const pruned = withoutResources(template, (_id, r) => r.Type === 'AWS::ApiGatewayV2::Api');
    expect(Object.keys(pruned.Resources)).toEqual(['Table']);
    expect(Object.keys(pruned.Outputs ?? {})).toEqual(['TableName']);
  });
});
