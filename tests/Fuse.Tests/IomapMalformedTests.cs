using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>Malformed fuse-iomap requests: short bodies and values the kernel cannot send are
/// answered EINVAL (never a crash, never a call into the file system with bad values).</summary>
public class IomapMalformedTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        ulong h = TestFileSystem.Hello;
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.Begin(20, h, 0, 0, 12), 31)).SetName("BEGIN body 31 of 32 bytes");
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.Begin(20, h, 0, 0, 12), 0)).SetName("BEGIN without body");
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.End(20, h), 71)).SetName("END body 71 of 72 bytes");
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.Ioend(20, h), 47)).SetName("IOEND body 47 of 48 bytes");
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.Config(20), 63)).SetName("CONFIG body 63 of 64 bytes");
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.Freeze(20), 7)).SetName("FREEZE body 7 of 8 bytes");
        yield return new TestCaseData(IomapFixtures.Truncated(IomapFixtures.Shutdown(20), 4)).SetName("SHUTDOWN body 4 of 8 bytes");
        yield return new TestCaseData(IomapFixtures.Begin(20, h, 1U << 12, 0, 12)).SetName("BEGIN unknown opflag bit 12");
        yield return new TestCaseData(IomapFixtures.Begin(20, h, 0, 0, 12, reserved: 1)).SetName("BEGIN reserved nonzero");
        yield return new TestCaseData(IomapFixtures.Begin(20, h, 0, 0, 0)).SetName("BEGIN count 0");
        yield return new TestCaseData(IomapFixtures.Begin(20, h, 0, long.MaxValue, 2)).SetName("BEGIN pos+count past loff_t");
        yield return new TestCaseData(IomapFixtures.Begin(20, h, 0, ulong.MaxValue, 1)).SetName("BEGIN negative pos");
        yield return new TestCaseData(IomapFixtures.End(20, h, written: 101)).SetName("END written past count");
        yield return new TestCaseData(IomapFixtures.End(20, h, written: -1)).SetName("END negative written");
        yield return new TestCaseData(IomapFixtures.Ioend(20, h, flags: 1U << 7)).SetName("IOEND unknown flag bit 7");
        yield return new TestCaseData(IomapFixtures.Ioend(20, h, error: 5)).SetName("IOEND positive error");
        yield return new TestCaseData(IomapFixtures.Ioend(20, h, error: -4096)).SetName("IOEND error below -MAX_ERRNO");
        yield return new TestCaseData(IomapFixtures.Ioend(20, h, pos: ulong.MaxValue - 10, written: 100)).SetName("IOEND range overflows");
        yield return new TestCaseData(IomapFixtures.Config(20, maxbytes: 0)).SetName("CONFIG maxbytes 0");
    }

    [TestCaseSource(nameof(Cases))]
    public void IsAnsweredEinvalAndTheSessionGoesOn(byte[] request)
    {
        var fs = new TestFileSystem();
        var (replies, _, log, _) = IomapTests.Run(fs, [IomapFixtures.Config(10), request, IomapFixtures.Begin(30, TestFileSystem.Hello, 0, 0, 12)]);
        Assert.That(replies, Has.Length.EqualTo(4));
        Assert.That(replies[2].Unique, Is.EqualTo(20UL));
        Assert.That(replies[2].Error, Is.EqualTo(-(int)Errno.EINVAL));
        Assert.That(replies[2].Payload, Is.Empty);
        Assert.That(log.Entries.Any(e => e.Text.Contains("unique 20", StringComparison.Ordinal)), Is.True, "logged");
        Assert.That(fs.Calls.Any(c => c.Contains("node=2", StringComparison.Ordinal) && !c.StartsWith("IomapBegin node=2 ino=12 op=0x0 pos=0 count=12", StringComparison.Ordinal)), Is.False, "the file system never saw the bad request");
        Assert.That(replies[3].Error, Is.Zero, "the next request is served");
    }

    [Test]
    public void ASecondConfigIsEinval()
    {
        var (replies, device, _, _) = IomapTests.Run(new TestFileSystem(), [IomapFixtures.Config(10), IomapFixtures.Config(11)]);
        Assert.That(replies[1].Error, Is.Zero);
        Assert.That(replies[2].Error, Is.EqualTo(-(int)Errno.EINVAL));
        Assert.That(device.Ioctls.Count(i => i.StartsWith("BACKING_OPEN", StringComparison.Ordinal)), Is.EqualTo(1));
    }
}
