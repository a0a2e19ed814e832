/**
 * The local twin's stand-in for the Application Load Balancer: target groups, listener rules
 * (path patterns forwarding to a target group) and registered targets, answering the deploy
 * workflow's Elastic Load Balancing calls and routing the gateway's `/model/…` requests.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from './errors';

interface TargetGroup {
  readonly arn: string;
  readonly name: string;
  targets: string[];
}

interface Rule {
  readonly arn: string;
  priority: number;
  patterns: string[];
  targetGroupArn: string;
}

export interface LoadBalancerState {
  targetGroups: { arn: string; name: string }[];
  rules: { arn: string; priority: number; patterns: string[]; targetGroupArn: string }[];
}

const elbError = (code: string, message: string) => new AwsServiceError('ElasticLoadBalancingV2', code, message);

function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

type Params = Record<string, unknown>;

export class LocalLoadBalancer {
  private readonly targetGroups = new Map<string, TargetGroup>();
  private readonly rules = new Map<string, Rule>();
  private next = 0;

  constructor(
    state?: LoadBalancerState,
    private readonly onChange: () => void = () => undefined,
  ) {
    for (const tg of state?.targetGroups ?? []) this.targetGroups.set(tg.arn, { ...tg, targets: [] });
    for (const rule of state?.rules ?? []) this.rules.set(rule.arn, { ...rule });
  }

  state(): LoadBalancerState {
    return {
      targetGroups: [...this.targetGroups.values()].map(({ arn, name }) => ({ arn, name })),
      rules: [...this.rules.values()].map((r) => ({ ...r })),
    };
  }

  /** The target a request path goes to: the highest-priority matching rule's next healthy target. */
  route(path: string): string | undefined {
    const rule = [...this.rules.values()]
      .sort((a, b) => a.priority - b.priority)
      .find((r) => r.patterns.some((p) => patternToRegExp(p).test(path)));
    const targets = rule ? this.targetGroups.get(rule.targetGroupArn)?.targets : undefined;
    if (!targets || targets.length === 0) return undefined;
    this.next = (this.next + 1) % targets.length;
    return targets[this.next % targets.length];
  }

  /** Whether some rule claims the path (even with no healthy target yet). */
  claims(path: string): boolean {
    return [...this.rules.values()].some((r) => r.patterns.some((p) => patternToRegExp(p).test(path)));
  }

  registerTarget(targetGroupArn: string, url: string): void {
    const tg = this.targetGroups.get(targetGroupArn);
    if (tg && !tg.targets.includes(url)) tg.targets.push(url);
  }

  deregisterTarget(targetGroupArn: string, url: string): void {
    const tg = this.targetGroups.get(targetGroupArn);
    if (tg) tg.targets = tg.targets.filter((t) => t !== url);
  }

  // ---- the ELB API calls the deploy workflow makes

  createTargetGroup(p: Params) {
    const name = String(p.Name);
    let tg = [...this.targetGroups.values()].find((t) => t.name === name);
    if (!tg) {
      tg = {
        arn: `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/${name}/${randomUUID().slice(0, 16)}`,
        name,
        targets: [],
      };
      this.targetGroups.set(tg.arn, tg);
      this.onChange();
    }
    return { TargetGroups: [{ TargetGroupArn: tg.arn, TargetGroupName: tg.name }] };
  }

  deleteTargetGroup(p: Params) {
    const arn = String(p.TargetGroupArn);
    if (!this.targetGroups.has(arn)) throw elbError('TargetGroupNotFoundException', `Target group ${arn} not found`);
    if ([...this.rules.values()].some((r) => r.targetGroupArn === arn)) {
      throw elbError('ResourceInUseException', `Target group ${arn} is in use by a listener rule`);
    }
    this.targetGroups.delete(arn);
    this.onChange();
    return {};
  }

  createRule(p: Params) {
    const priority = Number(p.Priority);
    if ([...this.rules.values()].some((r) => r.priority === priority)) {
      throw elbError('PriorityInUseException', `Priority ${priority} is in use`);
    }
    const rule: Rule = {
      arn: `arn:aws:elasticloadbalancing:local:000000000000:listener-rule/app/mlserve/${randomUUID().slice(0, 16)}`,
      priority,
      ...this.ruleTarget(p),
    };
    this.rules.set(rule.arn, rule);
    this.onChange();
    return { Rules: [{ RuleArn: rule.arn, Priority: String(priority) }] };
  }

  modifyRule(p: Params) {
    const rule = this.rules.get(String(p.RuleArn));
    if (!rule) throw elbError('RuleNotFoundException', `Rule ${String(p.RuleArn)} not found`);
    Object.assign(rule, this.ruleTarget(p));
    this.onChange();
    return { Rules: [{ RuleArn: rule.arn, Priority: String(rule.priority) }] };
  }

  deleteRule(p: Params) {
    if (!this.rules.delete(String(p.RuleArn)))
      throw elbError('RuleNotFoundException', `Rule ${String(p.RuleArn)} not found`);
    this.onChange();
    return {};
  }

  private ruleTarget(p: Params): { patterns: string[]; targetGroupArn: string } {
    const conditions = (p.Conditions ?? []) as { Field?: string; PathPatternConfig?: { Values?: string[] } }[];
    const patterns = conditions.flatMap((c) => (c.Field === 'path-pattern' ? (c.PathPatternConfig?.Values ?? []) : []));
    const actions = (p.Actions ?? []) as { Type?: string; TargetGroupArn?: string }[];
    const forward = actions.find((a) => a.Type === 'forward');
    if (!forward?.TargetGroupArn || !this.targetGroups.has(forward.TargetGroupArn)) {
      throw elbError('TargetGroupNotFoundException', `Target group ${forward?.TargetGroupArn} not found`);
    }
    if (patterns.length === 0) throw elbError('ValidationError', 'A rule needs a path-pattern condition');
    return { patterns, targetGroupArn: forward.TargetGroupArn };
  }
}
