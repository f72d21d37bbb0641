using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>errors=continue|remount-ro|panic and the superblock's error fields, read back by dumpe2fs.</summary>
[TestFixture]
public sealed class ErrorRecordingTests
{
    private static TestImage Build(params string[] mkfs) =>
        TestImage.Build(src => File.WriteAllText(Path.Combine(src, "a"), "a"), "8M", mkfs);

    private static OpenedVolume OpenWritable(TestImage image, Ext4ErrorBehavior? errors)
    {
        var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite);
        var device = new Storage.FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
        return new OpenedVolume(device, Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, Errors = errors }));
    }

    [Test]
    public void SuperblockDefaultIsContinueAndTheErrorIsStamped()
    {
        using var image = Build("-O", "metadata_csum");
        using (var opened = OpenWritable(image, errors: null))
        {
            var v = opened.Volume;
            Assert.That(v.ErrorBehavior, Is.EqualTo(Ext4ErrorBehavior.Continue), "mkfs sets s_errors = continue");
            Assert.That(v.ReportError(new Ext4CorruptionException("bad entry"), "ext4_lookup", ino: 12, block: 777), Is.True);
            Assert.That(v.ReportError(new Ext4ChecksumException("bad csum"), "ext4_iget", ino: 13, block: 0), Is.True);
            Assert.That(v.IsReadOnly, Is.False, "errors=continue keeps the volume writable");
            using var tx = v.Begin();
        }

        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        // With a journal EXT4_VALID_FS is never cleared (ext4_setup_super), so ERROR_FS joins it: "clean with errors".
        Assert.That(header, Does.Match(@"Filesystem state:\s+clean with errors\n"), "ERROR_FS is kept at unmount after an error");
        Assert.That(header, Does.Match(@"FS Error count:\s+2\n"));
        Assert.That(header, Does.Match(@"First error function:\s+ext4_lookup\n"));
        Assert.That(header, Does.Match(@"First error inode #:\s+12\n"));
        Assert.That(header, Does.Match(@"First error block #:\s+777\n"));
        Assert.That(header, Does.Match(@"First error err:\s+EFSCORRUPTED\n"));
        Assert.That(header, Does.Match(@"Last error function:\s+ext4_iget\n"));
        Assert.That(header, Does.Match(@"Last error inode #:\s+13\n"));
        Assert.That(header, Does.Match(@"Last error err:\s+EFSBADCRC\n"));
    }

    [Test]
    public void RemountReadOnlyRefusesLaterChanges()
    {
        using var image = Build("-e", "remount-ro");
        using (var opened = OpenWritable(image, errors: null))
        {
            var v = opened.Volume;
            Assert.That(v.ErrorBehavior, Is.EqualTo(Ext4ErrorBehavior.RemountReadOnly), "from s_errors");
            Assert.That(v.IsReadOnly, Is.False);
            v.ReportError(new Ext4IOException("read failed"), "ext4_read");
            Assert.That(v.IsReadOnly, Is.True);
            Assert.That(v.IsShutDown, Is.False);
            Assert.Throws<Ext4ReadOnlyException>(() => v.Begin());
            Assert.That(v.ReadInode(2).IsDirectory, Is.True, "reads still work");
        }

        Assert.That(Tool.Check("dumpe2fs", "-h", image.ImagePath), Does.Match(@"Last error err:\s+EIO\n"));
    }

    [Test]
    public void OptionOverridesSuperblockAndPanicShutsDown()
    {
        using var image = Build("-e", "continue");
        using var opened = OpenWritable(image, Ext4ErrorBehavior.Panic);
        var v = opened.Volume;
        v.ReportError(new Ext4CorruptionException("x"), "f");
        Assert.That(v.IsShutDown, Is.True);
        Assert.Throws<Ext4ShutDownException>(() => v.Begin());
    }

    [Test]
    public void ReadOnlyVolumeRecordsNothing()
    {
        using var image = Build();
        byte[] before = File.ReadAllBytes(image.ImagePath);
        using (var opened = image.Open())
        {
            Assert.That(opened.Volume.ReportError(new Ext4CorruptionException("x"), "f", 12), Is.False);
        }

        Assert.That(File.ReadAllBytes(image.ImagePath).SequenceEqual(before), Is.True);
    }
}
