-- CreateTable
CREATE TABLE "Federation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "publicSetId" TEXT,
    "currentRound" INTEGER NOT NULL DEFAULT 0,
    "consensusVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "deletedAt" DATETIME,
    CONSTRAINT "Federation_publicSetId_fkey" FOREIGN KEY ("publicSetId") REFERENCES "PublicSet" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PublicSet" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "byteLength" INTEGER NOT NULL,
    "sampleCount" INTEGER NOT NULL,
    "shape" JSONB NOT NULL,
    "format" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "data" BLOB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "JoinToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "federationId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME,
    "revokedAt" DATETIME,
    "lastUsedAt" DATETIME,
    CONSTRAINT "JoinToken_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Participant" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "federationId" TEXT NOT NULL,
    "joinTokenId" TEXT,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "modelArch" TEXT NOT NULL DEFAULT '',
    "resumeTokenHash" TEXT NOT NULL,
    "firstSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "bytesIn" BIGINT NOT NULL DEFAULT 0,
    "bytesOut" BIGINT NOT NULL DEFAULT 0,
    "removedAt" DATETIME,
    CONSTRAINT "Participant_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Participant_joinTokenId_fkey" FOREIGN KEY ("joinTokenId") REFERENCES "JoinToken" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Round" (
    "federationId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "batchIndices" BLOB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "closeReason" TEXT,
    "openedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadlineAt" DATETIME,
    "closedAt" DATETIME,
    "submissionCount" INTEGER NOT NULL DEFAULT 0,
    "aggregationMs" REAL,

    PRIMARY KEY ("federationId", "number"),
    CONSTRAINT "Round_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Submission" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "federationId" TEXT NOT NULL,
    "roundNumber" INTEGER NOT NULL,
    "participantId" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'predictions',
    "encoding" TEXT NOT NULL,
    "rows" INTEGER NOT NULL,
    "classes" INTEGER NOT NULL,
    "k" INTEGER NOT NULL DEFAULT 0,
    "numSamples" INTEGER NOT NULL DEFAULT 0,
    "staleness" INTEGER NOT NULL DEFAULT 0,
    "weight" REAL NOT NULL DEFAULT 1,
    "bytes" INTEGER NOT NULL,
    "payload" BLOB,
    "metrics" JSONB,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Submission_federationId_roundNumber_fkey" FOREIGN KEY ("federationId", "roundNumber") REFERENCES "Round" ("federationId", "number") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Submission_participantId_fkey" FOREIGN KEY ("participantId") REFERENCES "Participant" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Consensus" (
    "federationId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'predictions',
    "sourceVersions" JSONB NOT NULL,
    "encoding" TEXT NOT NULL DEFAULT 'float32',
    "rows" INTEGER NOT NULL DEFAULT 0,
    "classes" INTEGER NOT NULL DEFAULT 0,
    "contributors" INTEGER NOT NULL DEFAULT 0,
    "payload" BLOB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("federationId", "version"),
    CONSTRAINT "Consensus_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ParticipantMetric" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "federationId" TEXT NOT NULL,
    "participantId" TEXT NOT NULL,
    "roundNumber" INTEGER NOT NULL,
    "metrics" JSONB NOT NULL,
    "reportedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ParticipantMetric_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ParticipantMetric_participantId_fkey" FOREIGN KEY ("participantId") REFERENCES "Participant" ("id") ON DELETE CASCADE ON UPDATE CASCADE
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

