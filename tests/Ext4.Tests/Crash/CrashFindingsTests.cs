using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Engine defects the crash harness found, each reduced to the smallest workload that shows
/// it; every flush cut of that workload must recover (the same rule as
/// <see cref="CrashHarnessTests"/>).
/// </summary>
public class CrashFindingsTests
{
    /// <summary>
    /// Found on the first journaling commit (d667b48, harness state 0 of every case): the first
    /// change of a mount makes the journal live (journal superblock s_start != 0, flushed)
    /// before the superblock gets needs_recovery (Ext4Volume.StartJournal). Power lost between
    /// the two leaves a file system without needs_recovery whose journal superblock says "not
    /// empty". The kernel mounts it read-write (ext4_load_journal calls jbd2_journal_wipe when
    /// needs_recovery is clear: "JBD2: Clearing recovery information on journal") and
    /// e2fsck -fn exits 0, but Ext4Volume.Open read-write refuses it (JournalWriter.Open: "the
    /// journal is not empty although the file system is not marked needs_recovery"). The same
    /// window was reached by the orphan cleanup of a recovery interrupted in turn. Fixed in
    /// 4a01472 (needs_recovery before the journal goes live; a live log without it is
    /// discarded, as jbd2_journal_skip_recovery).
    /// </summary>
    [TestCase("-b", "4096")]
    [TestCase("-b", "1024", "-J", "size=1")]
    public void EveryFlushCutOfTheFirstCommitRecovers(params string[] mkfs)
    {
        using var image = TestImage.Build(_ => { }, "16M", mkfs);
        var workload = new ScriptedWorkload("first-commit", d =>
        {
            d.Create("/a", protect: true);
            d.Fill("/a", 0, 5000);
            d.Sync();
        });
        var recording = CrashRecording.Make(image, workload, seed: 1);
        var checker = new CrashChecker(recording);
        var failures = new List<string>();
        foreach (var state in CrashStateGenerator.Generate(recording.Log, recording.BlockSize, seed: 1, randomStates: 0))
        {
            if (checker.Check(state, image.Scratch("state.img")) is { } failure)
            {
                failures.Add($"{state}\n{failure}");
            }
        }

        Assert.That(failures, Is.Empty);
    }
}
