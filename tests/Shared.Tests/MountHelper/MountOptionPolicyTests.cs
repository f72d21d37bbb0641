using Safemount.MountHelper;
using Safemount.Shared.CommandLine;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.MountHelper;

[TestFixture]
public sealed class MountOptionPolicyTests
{
    [Test]
    public void DefaultsAreNosuidNodevRelatimeRw()
    {
        MountPolicy p = MountOptionPolicy.Apply("", sloppy: false);
        Assert.That(p.NoSuid && p.NoDev && !p.ReadOnly && !p.NoExec, Is.True);
        Assert.That(p.MountAttributes, Is.EqualTo(MountInterop.MOUNT_ATTR_NOSUID | MountInterop.MOUNT_ATTR_NODEV));
        Assert.That(p.MountFlags, Is.EqualTo(MountInterop.MS_NOSUID | MountInterop.MS_NODEV | MountInterop.MS_RELATIME));
        Assert.That(p.FsOptions, Is.EqualTo(""));
    }

    [TestCase("ro", true, true, true, false, "")]
    [TestCase("ro,rw", false, true, true, false, "")]
    [TestCase("suid", false, false, true, false, "")]
    [TestCase("dev", false, true, false, false, "")]
    [TestCase("suid,dev,nosuid", false, true, false, false, "")]
    [TestCase("noexec", false, true, true, true, "")]
    [TestCase("defaults,auto,noauto,user,nouser,users,owner,group,_netdev,nofail,loop,x-systemd.automount,comment=foo,user=bob", false, true, true, false, "")]
    [TestCase("errors=remount-ro,ro,journal_checksum,,data=ordered", true, true, true, false, "errors=remount-ro,journal_checksum,data=ordered")]
    [TestCase("sync,dirsync", false, true, true, false, "sync,dirsync")]
    public void PolicyTable(string options, bool ro, bool nosuid, bool nodev, bool noexec, string forwarded)
    {
        MountPolicy p = MountOptionPolicy.Apply(options, sloppy: false);
        Assert.That(p.ReadOnly, Is.EqualTo(ro));
        Assert.That(p.NoSuid, Is.EqualTo(nosuid));
        Assert.That(p.NoDev, Is.EqualTo(nodev));
        Assert.That(p.NoExec, Is.EqualTo(noexec));
        Assert.That(p.FsOptions, Is.EqualTo(forwarded));
        Assert.That((p.MountAttributes & MountInterop.MOUNT_ATTR_RDONLY) != 0, Is.EqualTo(ro));
    }

    [TestCase("noatime", MountInterop.MOUNT_ATTR_NOATIME)]
    [TestCase("strictatime", MountInterop.MOUNT_ATTR_STRICTATIME)]
    [TestCase("noatime,relatime", MountInterop.MOUNT_ATTR_RELATIME)]
    public void AtimeModes(string options, uint mode)
    {
        Assert.That(MountOptionPolicy.Apply(options, false).MountAttributes & MountInterop.MOUNT_ATTR__ATIME, Is.EqualTo(mode));
    }

    [Test]
    public void NodiratimeSetsItsBit()
    {
        Assert.That(MountOptionPolicy.Apply("nodiratime", false).MountAttributes & MountInterop.MOUNT_ATTR_NODIRATIME, Is.Not.Zero);
    }

    [TestCase("ro=1")]
    [TestCase("fd=3")]
    [TestCase("rootmode=40755")]
    [TestCase("allow_other")]
    [TestCase("=x")]
    [TestCase("a b")]
    [TestCase("key=\u0007")]
    public void MalformedOrReservedOptionsAreUsageErrors(string option)
    {
        Assert.Throws<UsageException>(() => MountOptionPolicy.Apply($"ro,{option}", sloppy: false));
    }

    [TestCase("", IomapMode.Auto, "")]
    [TestCase("iomap=auto", IomapMode.Auto, "iomap=auto")]
    [TestCase("iomap=on", IomapMode.On, "iomap=on")]
    [TestCase("iomap", IomapMode.On, "iomap")]
    [TestCase("ro,iomap=off,errors=continue", IomapMode.Off, "iomap=off,errors=continue")]
    [TestCase("iomap=on,iomap=off", IomapMode.Off, "iomap=on,iomap=off")]
    public void IomapModeIsTakenAndForwarded(string options, IomapMode mode, string forwarded)
    {
        MountPolicy p = MountOptionPolicy.Apply(options, sloppy: false);
        Assert.That(p.Iomap, Is.EqualTo(mode));
        Assert.That(p.FsOptions, Is.EqualTo(forwarded));
    }

    [TestCase("iomap=yes")]
    [TestCase("iomap=")]
    [TestCase("iomap=ON")]
    public void ABadIomapValueIsAUsageErrorOrDroppedWhenSloppy(string option)
    {
        UsageException e = Assert.Throws<UsageException>(() => MountOptionPolicy.Apply($"ro,{option}", sloppy: false))!;
        Assert.That(e.Message, Is.EqualTo($"option '{option}': takes auto, on or off"));
        MountPolicy p = MountOptionPolicy.Apply($"ro,{option}", sloppy: true);
        Assert.That(p.Iomap, Is.EqualTo(IomapMode.Auto));
        Assert.That(p.FsOptions, Is.Empty);
        Assert.That(p.Warnings.Single(), Does.Contain(option));
    }

    [Test]
    public void SloppyDropsThemWithAWarning()
    {
        MountPolicy p = MountOptionPolicy.Apply("ro,fd=3,errors=continue,a b", sloppy: true);
        Assert.That(p.ReadOnly, Is.True);
        Assert.That(p.FsOptions, Is.EqualTo("errors=continue"));
        Assert.That(p.Warnings, Has.Count.EqualTo(2));
        Assert.That(p.Warnings[0], Does.Contain("fd=3"));
    }

    [Test]
    public void OverlongOptionStringIsRefused()
    {
        string many = string.Join(',', Enumerable.Range(0, 1000).Select(i => $"opt{i}"));
        Assert.Throws<UsageException>(() => MountOptionPolicy.Apply(many, false));
    }
}

[TestFixture]
public sealed class ServiceValueAllowlistTests
{
    private static readonly MountAccepted Good = new() { FsType = "fuseblk", Subtype = "safe.ext4", RootMode = 0x41ED, BlockSize = 4096 };

    [Test]
    public void GoodValuesPass()
    {
        Assert.DoesNotThrow(() => ServiceValueAllowlist.Check(Good));
        Assert.DoesNotThrow(() => ServiceValueAllowlist.Check(Good with { FsType = "fuse", BlockSize = 512 }));
        Assert.DoesNotThrow(() => ServiceValueAllowlist.Check(Good with { BlockSize = 65536, RootMode = 0x43FF }));
    }

    [TestCase("ext4", "safe.ext4", 0x41EDu, 4096u)]
    [TestCase("fuseblk", "ext4", 0x41EDu, 4096u)]
    [TestCase("fuseblk", "safe.ext4,allow_other", 0x41EDu, 4096u)]
    [TestCase("fuseblk", "safe.ext4", 0x81EDu, 4096u)]
    [TestCase("fuseblk", "safe.ext4", 0x01EDu, 4096u)]
    [TestCase("fuseblk", "safe.ext4", 0x141EDu, 4096u)]
    [TestCase("fuseblk", "safe.ext4", 0x41EDu, 256u)]
    [TestCase("fuseblk", "safe.ext4", 0x41EDu, 131072u)]
    [TestCase("fuseblk", "safe.ext4", 0x41EDu, 3072u)]
    [TestCase("fuseblk", "safe.ext4", 0x41EDu, 0u)]
    public void ValuesOutsideTheAllowlistFail(string fsType, string subtype, uint rootMode, uint blockSize)
    {
        MountAccepted a = Good with { FsType = fsType, Subtype = subtype, RootMode = rootMode, BlockSize = blockSize };
        Assert.Throws<MountFailureException>(() => ServiceValueAllowlist.Check(a));
    }
}
