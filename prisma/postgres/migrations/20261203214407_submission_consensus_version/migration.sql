-- AlterTable
ALTER TABLE "Submission" ADD COLUMN     "consensusVersion" INTEGER;


-- Rows stored before this column: the rule recovery used until now (a contribution to
-- version v with staleness s arrived while v + s was current, so the newest consensus at or
-- after v + s took it). Exact for a single coordinator; from now on the owner writes the
-- version with each consensus it saves.
UPDATE "Submission" SET "consensusVersion" = "roundNumber" + "staleness"
WHERE "roundNumber" + "staleness" <= (
  SELECT MAX(c."version") FROM "Consensus" c WHERE c."federationId" = "Submission"."federationId"
);
