import type { DbContext, Prisma } from './context.ts';
import { DbError, prismaCode } from './errors.ts';

/** Metrics a participant reported, with a submission or on their own (MetricsReport). */
export interface ReportedMetrics {
  federationId: string;
  participantId: string;
  roundNumber: number;
  source: 'submission' | 'report';
  metrics: Record<string, number>;
  at: Date;
}

export interface ReportMetricsInput {
  federationId: string;
  participantId: string;
  roundNumber: number;
  metrics: Record<string, number>;
  reportedAt?: Date;
}

export class MetricsRepository {
  constructor(private readonly ctx: DbContext) {}

  /** Stores a MetricsReport (metrics outside a submission). */
  report(input: ReportMetricsInput): Promise<ReportedMetrics> {
    return this.ctx.unit(async (db) => {
      try {
        const m = await db.participantMetric.create({
          data: {
            federationId: input.federationId,
            participantId: input.participantId,
            roundNumber: input.roundNumber,
            metrics: input.metrics as Prisma.InputJsonObject,
            reportedAt: input.reportedAt ?? new Date(),
          },
        });
        return {
          federationId: m.federationId,
          participantId: m.participantId,
          roundNumber: m.roundNumber,
          source: 'report',
          metrics: m.metrics as Record<string, number>,
          at: m.reportedAt,
        };
      } catch (e) {
        if (prismaCode(e) === 'P2003')
          throw new DbError('MUTUA_ERR_DB_NOT_FOUND', 'that federation or participant does not exist');
        throw e;
      }
    });
  }

  /**
   * Everything participants reported for a round or a range of rounds: metrics sent with
   * submissions and separate reports, by round then time.
   */
  list(
    federationId: string,
    options: { roundNumber?: number; fromRound?: number; participantId?: string } = {},
  ) {
    const round =
      options.roundNumber !== undefined
        ? { roundNumber: options.roundNumber }
        : options.fromRound !== undefined
          ? { roundNumber: { gte: options.fromRound } }
          : {};
    const who = options.participantId ? { participantId: options.participantId } : {};
    return this.ctx.unit(async (db): Promise<ReportedMetrics[]> => {
      const [withSubmissions, reports] = await Promise.all([
        db.submission.findMany({
          where: { federationId, ...round, ...who },
          select: {
            federationId: true,
            participantId: true,
            roundNumber: true,
            metrics: true,
            receivedAt: true,
          },
        }),
        db.participantMetric.findMany({ where: { federationId, ...round, ...who } }),
      ]);
      const all: ReportedMetrics[] = [
        ...withSubmissions
          .filter((s) => s.metrics !== null)
          .map((s) => ({
            federationId: s.federationId,
            participantId: s.participantId,
            roundNumber: s.roundNumber,
            source: 'submission' as const,
            metrics: s.metrics as Record<string, number>,
            at: s.receivedAt,
          })),
        ...reports.map((m) => ({
          federationId: m.federationId,
          participantId: m.participantId,
          roundNumber: m.roundNumber,
          source: 'report' as const,
          metrics: m.metrics as Record<string, number>,
          at: m.reportedAt,
        })),
      ];
      return all.sort((a, b) => a.roundNumber - b.roundNumber || a.at.getTime() - b.at.getTime());
    });
  }
}
