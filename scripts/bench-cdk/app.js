// examples/two-services.yaml's prod as a CDK app, for scripts/bench-cli to time `cdk synth`
// beside `ferry template`. The same parts: a VPC over two AZs with NAT, an ECS cluster,
// two Fargate services behind one ALB (the API on /api/*), autoscaling on the API, a
// Multi-AZ MySQL instance and a Valkey replication group, with their security groups.
const cdk = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const ecs = require('aws-cdk-lib/aws-ecs');
const elbv2 = require('aws-cdk-lib/aws-elasticloadbalancingv2');
const rds = require('aws-cdk-lib/aws-rds');
const elasticache = require('aws-cdk-lib/aws-elasticache');
const logs = require('aws-cdk-lib/aws-logs');
const ecr = require('aws-cdk-lib/aws-ecr');

const app = new cdk.App();
// Environment-agnostic, as Ferry's templates are: availability zones come from Fn::GetAZs,
// so synth needs no AWS credentials or context lookups.
const stack = new cdk.Stack(app, 'ferry-market-prod');

const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 2 });
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
const listener = alb.addListener('Https', {
  port: 443,
  certificates: [elbv2.ListenerCertificate.fromArn(
    'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000')],
  defaultAction: elbv2.ListenerAction.fixedResponse(404),
});
alb.addRedirect({ sourcePort: 80, targetPort: 443 });

function service(name, { port, cpu, memory, count, health, path, priority, scaling, environment, secrets }) {
  const task = new ecs.FargateTaskDefinition(stack, `${name}Task`, {
    cpu, memoryLimitMiB: memory, runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64 },
  });
  task.addContainer(name, {
    image: ecs.ContainerImage.fromEcrRepository(
      ecr.Repository.fromRepositoryName(stack, `${name}Repo`, `market-${name}`)),
    portMappings: [{ containerPort: port }],
    readonlyRootFilesystem: true,
    user: '1000',
    environment,
    secrets,
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: name,
      logGroup: new logs.LogGroup(stack, `${name}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
    }),
  });
  const svc = new ecs.FargateService(stack, `${name}Service`, {
    cluster, taskDefinition: task, desiredCount: count,
    circuitBreaker: { rollback: true }, minHealthyPercent: 100, maxHealthyPercent: 200,
  });
  listener.addTargets(`${name}Targets`, {
    port, protocol: elbv2.ApplicationProtocol.HTTP, targets: [svc],
    healthCheck: { path: health },
    priority, conditions: path ? [elbv2.ListenerCondition.pathPatterns([path])] : [elbv2.ListenerCondition.pathPatterns(['/*'])],
  });
  if (scaling) {
    svc.autoScaleTaskCount({ minCapacity: scaling.min, maxCapacity: scaling.max })
      .scaleOnCpuUtilization(`${name}Cpu`, { targetUtilizationPercent: scaling.cpu });
  }
  return svc;
}

const payments = require('aws-cdk-lib/aws-ssm').StringParameter.fromSecureStringParameterAttributes(
  stack, 'PaymentsToken', { parameterName: '/market/payments-token' });
const web = service('web', { port: 3000, cpu: 512, memory: 1024, count: 2, health: '/healthz', priority: 20 });
const api = service('api', {
  port: 8080, cpu: 1024, memory: 2048, count: 4, health: '/api/health', path: '/api/*', priority: 10,
  scaling: { min: 4, max: 30, cpu: 55 },
  environment: { DB_NAME: 'market' },
  secrets: { PAYMENTS_TOKEN: ecs.Secret.fromSsmParameter(payments) },
});

const db = new rds.DatabaseInstance(stack, 'Database', {
  engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of('8.4.7', '8.4') }),
  instanceType: new ec2.InstanceType('r7g.large'),
  vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  multiAz: true, allocatedStorage: 100, storageEncrypted: true,
  backupRetention: cdk.Duration.days(14), deletionProtection: true,
});
for (const svc of [web, api]) db.connections.allowDefaultPortFrom(svc);

const cacheSg = new ec2.SecurityGroup(stack, 'CacheSg', { vpc });
for (const svc of [web, api]) cacheSg.connections.allowFrom(svc, ec2.Port.tcp(6379));
const cacheSubnets = new elasticache.CfnSubnetGroup(stack, 'CacheSubnets', {
  description: 'market prod cache',
  subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
});
new elasticache.CfnReplicationGroup(stack, 'Cache', {
  replicationGroupDescription: 'market prod cache',
  engine: 'valkey', cacheNodeType: 'cache.t4g.small', numCacheClusters: 2,
  automaticFailoverEnabled: true, multiAzEnabled: true,
  atRestEncryptionEnabled: true, transitEncryptionEnabled: true,
  cacheSubnetGroupName: cacheSubnets.ref, securityGroupIds: [cacheSg.securityGroupId],
});

app.synth();
