using System.Diagnostics;
using System.Globalization;
using System.Text;
using NUnit.Framework;
using Safemount.Ext4Service.Sandbox;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Sandbox;

/// <summary>
/// The RLIMIT_NPROC count of <see cref="ResourceLimits"/>: the /proc/PID/status parser on real
/// and cut-off texts, and the count over /proc against processes started under a uid nothing
/// else uses.
/// </summary>
[TestFixture]
public sealed class ResourceLimitsTests
{
    /// <summary>A uid (and gid) no account or other test uses.</summary>
    private const uint UnusedUid = 3_999_989;

    [Test]
    public void ParsesThisProcessStatus()
    {
        byte[] text = File.ReadAllBytes("/proc/self/status");
        Assert.That(ResourceLimits.ParseStatus(text, out uint uid, out int threads), Is.True);
        string[] lines = Encoding.ASCII.GetString(text).Split('\n');
        string expectedUid = lines.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
        string expectedThreads = lines.Single(l => l.StartsWith("Threads:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.That(uid, Is.EqualTo(IdentityInterop.GetResUid().Real));
        Assert.That(uid.ToString(CultureInfo.InvariantCulture), Is.EqualTo(expectedUid));
        Assert.That(threads.ToString(CultureInfo.InvariantCulture), Is.EqualTo(expectedThreads));
    }

    [TestCase("Name:\tx\nUid:\t7\t7\t7\t7\nThreads:\t3\n", true, 7u, 3)]
    [TestCase("Threads:\t12\nUid:\t65534\t0\t0\t0\n", true, 65534u, 12)]
    [TestCase("Name:\tx\nUid:\t7\t7\t7\t7\nThreads:\t3", false, 0u, 0)]
    [TestCase("Name:\tx\nUid:\t7\t7\t7\t7\n", false, 0u, 0)]
    [TestCase("Threads:\t3\n", false, 0u, 0)]
    [TestCase("Uid:\t-1\t0\t0\t0\nThreads:\t3\n", false, 0u, 0)]
    [TestCase("Uid:\t4294967296\t0\t0\t0\nThreads:\t3\n", false, 0u, 0)]
    [TestCase("Uid:\t7\nThreads:\tmany\n", false, 0u, 0)]
    [TestCase("", false, 0u, 0)]
    public void ParsesOnlyCompleteLines(string text, bool ok, uint uid, int threads)
    {
        Assert.That(ResourceLimits.ParseStatus(Encoding.ASCII.GetBytes(text), out uint u, out int t), Is.EqualTo(ok));
        if (ok)
        {
            Assert.That((u, t), Is.EqualTo((uid, threads)));
        }
    }

    [Test]
    public void CountsTheThreadsOfEveryProcessOfTheUid()
    {
        TestEnvironment.RequireMountEnvironment();
        Assert.That(ResourceLimits.CountTasksOfUid(UnusedUid), Is.Zero, $"uid {UnusedUid} is in use on this machine");
        var sleepers = new List<Process>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                sleepers.Add(Process.Start(new ProcessStartInfo("setpriv",
                    [$"--reuid={UnusedUid}", $"--regid={UnusedUid}", "--clear-groups", "sleep", "120"]))!);
            }

            // setpriv execs sleep in the same process: once each status shows the uid, it stays.
            Assert.That(() => ResourceLimits.CountTasksOfUid(UnusedUid), Is.EqualTo(3).After(10_000, 50));
        }
        finally
        {
            foreach (Process p in sleepers)
            {
                p.Kill();
                p.WaitForExit();
                p.Dispose();
            }
        }

        Assert.That(ResourceLimits.CountTasksOfUid(UnusedUid), Is.Zero);
    }
}
