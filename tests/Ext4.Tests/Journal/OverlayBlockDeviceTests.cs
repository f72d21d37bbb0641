using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// The overlay against a reference array: every read (any offset, any length, across redirected,
/// replaced and pass-through blocks) returns what a fully patched copy holds, and the inner
/// device (read-only by type) is never changed.
/// </summary>
public class OverlayBlockDeviceTests
{
    [Test]
    public void ReadsEqualAPatchedCopyEverywhere()
    {
        const int bs = 1024;
        var rng = new Random(3);
        var image = new byte[64 * bs];
        rng.NextBytes(image);
        var pristine = (byte[])image.Clone();
        var expected = (byte[])image.Clone();
        var overlay = new OverlayBlockDevice(new MemoryBlockDevice(image), bs);

        overlay.Redirect(3, 40 * bs);                      // block 3 reads block 40
        image.AsSpan(40 * bs, bs).CopyTo(expected.AsSpan(3 * bs));
        overlay.Redirect(4, 41 * bs);
        image.AsSpan(41 * bs, bs).CopyTo(expected.AsSpan(4 * bs));
        var replacement = new byte[bs];
        rng.NextBytes(replacement);
        overlay.Replace(10, replacement);
        replacement.CopyTo(expected.AsSpan(10 * bs));
        overlay.Redirect(11, 50 * bs);
        overlay.Replace(11, replacement);                  // the last entry for a block wins
        replacement.CopyTo(expected.AsSpan(11 * bs));
        overlay.Seal();
        Assert.That(overlay.Count, Is.EqualTo(4));
        Assert.Throws<InvalidOperationException>(() => overlay.Redirect(5, 0));

        for (int i = 0; i < 2000; i++)
        {
            int offset = rng.Next(image.Length);
            int length = rng.Next(Math.Min(image.Length - offset, 20 * bs) + 1);
            var buf = new byte[length];
            overlay.Read(offset, buf);
            Assert.That(buf, Is.EqualTo(expected.AsSpan(offset, length).ToArray()), $"read {length} at {offset}");
        }

        Assert.That(image, Is.EqualTo(pristine), "the inner device is unchanged");
        Assert.Throws<Ext4IOException>(() => overlay.Read(image.Length - 10, new byte[11]));
        Assert.Throws<Ext4IOException>(() => new OverlayBlockDevice(new MemoryBlockDevice(image), bs).Redirect(64, 0));
    }
}
