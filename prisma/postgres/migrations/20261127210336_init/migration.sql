-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "FederationStatus" AS ENUM ('active', 'paused', 'deleted');

-- CreateEnum
CREATE TYPE "ParticipantKind" AS ENUM ('node', 'browser', 'other');

-- CreateEnum
CREATE TYPE "RoundStatus" AS ENUM ('open', 'closed', 'cancelled');

-- CreateEnum
CREATE TYPE "PayloadKind" AS ENUM ('predictions', 'weights');

-- CreateTable
CREATE TABLE "Federation" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "status" "FederationStatus" NOT NULL DEFAULT 'active',
    "publicSetId" TEXT,
    "currentRound" INTEGER NOT NULL DEFAULT 0,
    "consensusVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "deletedAt" TIMESTAMP(3),

    CONSTRAINT "Federation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PublicSet" (
    "id" TEXT NOT NULL,
    "byteLength" INTEGER NOT NULL,
    "sampleCount" INTEGER NOT NULL,
    "shape" JSONB NOT NULL,
    "format" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "data" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PublicSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JoinToken" (
    "id" TEXT NOT NULL,
    "federationId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),

    CONSTRAINT "JoinToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Participant" (
    "id" TEXT NOT NULL,
    "federationId" TEXT NOT NULL,
    "joinTokenId" TEXT,
    "name" TEXT NOT NULL,
    "kind" "ParticipantKind" NOT NULL,
    "modelArch" TEXT NOT NULL DEFAULT '',
    "resumeTokenHash" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "bytesIn" BIGINT NOT NULL DEFAULT 0,
    "bytesOut" BIGINT NOT NULL DEFAULT 0,
    "removedAt" TIMESTAMP(3),

    CONSTRAINT "Participant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Round" (
    "federationId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "batchIndices" BYTEA NOT NULL,
    "status" "RoundStatus" NOT NULL DEFAULT 'open',
    "closeReason" TEXT,
    "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadlineAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),
    "submissionCount" INTEGER NOT NULL DEFAULT 0,
    "aggregationMs" DOUBLE PRECISION,

    CONSTRAINT "Round_pkey" PRIMARY KEY ("federationId","number")
);

-- CreateTable
CREATE TABLE "Submission" (
    "id" TEXT NOT NULL,
    "federationId" TEXT NOT NULL,
    "roundNumber" INTEGER NOT NULL,
    "participantId" TEXT NOT NULL,
    "kind" "PayloadKind" NOT NULL DEFAULT 'predictions',
    "encoding" TEXT NOT NULL,
    "rows" INTEGER NOT NULL,
    "classes" INTEGER NOT NULL,
    "k" INTEGER NOT NULL DEFAULT 0,
    "numSamples" INTEGER NOT NULL DEFAULT 0,
    "staleness" INTEGER NOT NULL DEFAULT 0,
    "weight" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "bytes" INTEGER NOT NULL,
    "payload" BYTEA,
    "metrics" JSONB,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Submission_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Consensus" (
    "federationId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" "PayloadKind" NOT NULL DEFAULT 'predictions',
    "sourceVersions" JSONB NOT NULL,
    "encoding" TEXT NOT NULL DEFAULT 'float32',
    "rows" INTEGER NOT NULL DEFAULT 0,
    "classes" INTEGER NOT NULL DEFAULT 0,
    "contributors" INTEGER NOT NULL DEFAULT 0,
    "payload" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Consensus_pkey" PRIMARY KEY ("federationId","version")
);

-- CreateTable
CREATE TABLE "ParticipantMetric" (
    "id" TEXT NOT NULL,
    "federationId" TEXT NOT NULL,
    "participantId" TEXT NOT NULL,
    "roundNumber" INTEGER NOT NULL,
    "metrics" JSONB NOT NULL,
    "reportedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ParticipantMetric_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Federation_status_idx" ON "Federation"("status");

-- CreateIndex
CREATE UNIQUE INDEX "JoinToken_tokenHash_key" ON "JoinToken"("tokenHash");

-- CreateIndex
CREATE INDEX "JoinToken_federationId_idx" ON "JoinToken"("federationId");

-- CreateIndex
CREATE UNIQUE INDEX "Participant_resumeTokenHash_key" ON "Participant"("resumeTokenHash");

-- CreateIndex
CREATE INDEX "Participant_federationId_idx" ON "Participant"("federationId");

-- CreateIndex
CREATE INDEX "Participant_joinTokenId_idx" ON "Participant"("joinTokenId");

-- CreateIndex
CREATE INDEX "Submission_federationId_roundNumber_idx" ON "Submission"("federationId", "roundNumber");

-- CreateIndex
CREATE UNIQUE INDEX "Submission_participantId_roundNumber_key" ON "Submission"("participantId", "roundNumber");

-- CreateIndex
CREATE INDEX "ParticipantMetric_federationId_roundNumber_idx" ON "ParticipantMetric"("federationId", "roundNumber");

-- CreateIndex
CREATE INDEX "ParticipantMetric_participantId_idx" ON "ParticipantMetric"("participantId");

-- AddForeignKey
ALTER TABLE "Federation" ADD CONSTRAINT "Federation_publicSetId_fkey" FOREIGN KEY ("publicSetId") REFERENCES "PublicSet"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JoinToken" ADD CONSTRAINT "JoinToken_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Participant" ADD CONSTRAINT "Participant_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Participant" ADD CONSTRAINT "Participant_joinTokenId_fkey" FOREIGN KEY ("joinTokenId") REFERENCES "JoinToken"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Round" ADD CONSTRAINT "Round_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Submission" ADD CONSTRAINT "Submission_federationId_roundNumber_fkey" FOREIGN KEY ("federationId", "roundNumber") REFERENCES "Round"("federationId", "number") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Submission" ADD CONSTRAINT "Submission_participantId_fkey" FOREIGN KEY ("participantId") REFERENCES "Participant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Consensus" ADD CONSTRAINT "Consensus_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ParticipantMetric" ADD CONSTRAINT "ParticipantMetric_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ParticipantMetric" ADD CONSTRAINT "ParticipantMetric_participantId_fkey" FOREIGN KEY ("participantId") REFERENCES "Participant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

