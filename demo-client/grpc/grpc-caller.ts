// One gRPC call of the lab's load (Unary), for all three arms: a plain grpc-js client with a deadline only (`none`,
// and `proxy` pointed at Breakwater), or grpc-js's own retries and deadline from a service config (`app`). It reads
// what the answer says about itself: the status, the replica, the attempts (Breakwater's x-breakwater-attempts, or
// grpc-js's grpc-previous-rpc-attempts) and whether the sidecar failed it fast.
import { Client, credentials, Metadata, type ChannelOptions, type StatusObject } from '@grpc/grpc-js';
import { GRPC_CODE_NAMES, httpEquivalent } from '../../proxy/core/grpc.js';
import { demoMethod, type EchoReply } from '../../demo-backend/grpc/protos.js';
import type { AppPolicy, Caller, CallOutcome } from '../types.js';
import { appServiceConfig } from './service-config.js';
import { parseGrpcTarget, type GrpcTarget } from './target.js';

export interface GrpcCallerOptions {
  url: string;
  /** The app arm: retries and deadline from this policy, in grpc-js's service config. */
  appPolicy?: AppPolicy;
  /** The plain client's deadline per call; none when undefined. */
  deadlineMs?: number;
}

const UNARY = demoMethod('Unary');

export class GrpcCaller implements Caller {
  private readonly target: GrpcTarget;
  private readonly client: Client;

  constructor(private readonly options: GrpcCallerOptions) {
    this.target = parseGrpcTarget(options.url);
    // Each caller stands for one instance of the calling service, with its own connections: grpc-js would otherwise
    // share one subchannel (one connection per address) between every client of the process.
    const own: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };
    const channel: ChannelOptions = options.appPolicy
      ? { ...own, 'grpc.service_config': JSON.stringify(appServiceConfig(options.appPolicy, this.target.service)), 'grpc.enable_retries': 1 }
      : { ...own, 'grpc.enable_retries': 0 };
    this.client = new Client(this.target.channel, credentials.createInsecure(), channel);
  }

  call(signal?: AbortSignal): Promise<CallOutcome> {
    const { deadlineMs } = this.options;
    return new Promise((resolve) => {
      const seen = new Metadata();
      let reply: EchoReply | undefined;
      const call = this.client.makeUnaryRequest(
        this.target.path,
        UNARY.requestSerialize,
        UNARY.responseDeserialize as (bytes: Buffer) => EchoReply,
        { message: 'lab' },
        new Metadata(),
        deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
        (_error, value) => (reply = value),
      );
      const cancel = () => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      call.on('metadata', (metadata: Metadata) => seen.merge(metadata));
      // 'status' comes last, after the callback, with the trailers (or a trailers-only answer's headers).
      call.on('status', (status: StatusObject) => {
        signal?.removeEventListener('abort', cancel);
        seen.merge(status.metadata);
        resolve(this.outcome(status.code, seen, reply));
      });
    });
  }

  private outcome(code: number, metadata: Metadata, reply: EchoReply | undefined): CallOutcome {
    const header = (name: string) => metadata.get(name)[0]?.toString();
    const fastFail = header('x-breakwater-circuit') === 'open' || header('x-breakwater-bulkhead') === 'rejected';
    const attempts = fastFail ? 0 : attemptsOf(header('x-breakwater-attempts'), header('grpc-previous-rpc-attempts'), this.options.appPolicy !== undefined);
    const replica = reply?.replica || header('x-backend-replica');
    const name = GRPC_CODE_NAMES[code] ?? 'unknown';
    return {
      status: code === 0 ? 200 : httpEquivalent(code),
      grpcStatus: name,
      ...(code === 0 ? {} : { error: name }),
      ...(attempts !== undefined ? { attempts } : {}),
      ...(replica ? { replica } : {}),
      fastFail,
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** The sidecar's count when it gave one; grpc-js's previous attempts plus this one in the app arm (1 when it never retried). */
function attemptsOf(sidecar: string | undefined, previous: string | undefined, appRetries: boolean): number | undefined {
  const counted = Number(sidecar);
  if (Number.isInteger(counted) && counted > 0) return counted;
  if (!appRetries) return undefined;
  const before = Number(previous ?? 0);
  return Number.isInteger(before) && before >= 0 ? before + 1 : 1;
}

const WARM_UP_CALLS = 20;
const WARM_UP_MS = 2000;

/** Up to 20 sequential plain calls for at most 2 s: the gRPC twin of the HTTP warm-up (JIT, first connections). */
export async function warmUpGrpc(url: string): Promise<void> {
  const caller = new GrpcCaller({ url, deadlineMs: WARM_UP_MS });
  const deadline = Date.now() + WARM_UP_MS;
  try {
    for (let i = 0; i < WARM_UP_CALLS && Date.now() < deadline; i++) await caller.call();
  } finally {
    await caller.close();
  }
}
