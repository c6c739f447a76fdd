-- AlterTable
ALTER TABLE "JoinToken" ADD COLUMN "maxUses" INTEGER;

