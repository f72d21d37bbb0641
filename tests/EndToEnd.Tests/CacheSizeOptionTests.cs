using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>cache_size= through mount(8) (scripts/cache-size.sh): a bad value refused naming the
/// option, the budget reaching the engine (the service logs it at volume open), and the
/// smallest budget serving a tree whose metadata does not fit in it, e2fsck-clean.</summary>
[TestFixture]
[NonParallelizable]
public sealed class CacheSizeOptionTests
{
    /// <summary>60 directories of 100 files: 6,000 inodes of 256 bytes fill 375 inode-table
    /// blocks, more than the 256 blocks of a 1 MiB budget, so blocks are evicted and read again.</summary>
    private const int Directories = 60;

    [Test]
    public void TheBudgetReachesTheEngineAndASmallOneServesCorrectly()
    {
        TestEnvironment.RequireMountEnvironment();
        string work = Directory.CreateTempSubdirectory("safemount-cache-").FullName;
        try
        {
            string image = TestImages.Build(work, new ImageLayout("cache", ["-b", "4096", "-I", "256"], "256M", 10, false, 8));
            CommandResult r;
            string log;
            using (var activator = new SocketActivator(work))
            {
                r = Command.Run("unshare",
                    ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "cache-size.sh"),
                     image, Path.Combine(work, "mnt"), Mounts.HelperDir(work), Directories.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                    TimeSpan.FromMinutes(5), activator.HelperEnvironment);
                activator.AssertServicesExit(TimeSpan.FromSeconds(15));
                log = activator.Log;
            }

            string context = $"{r}\nservice log:\n{log}";
            Assert.That(r.StdOut, Is.EqualTo($"bad-exit=32\nbad-mounted=0\nfiles={Directories * 100}\nmismatches=0\numount-exit=0\n"), context);
            Assert.That(r.StdErr, Is.EqualTo($"mount.safe.ext4: {image}: invalid value for mount option 'cache_size': '8x' (bytes with an optional k, m or g suffix, 1m to 64g)\n"), context);

            // Both good mounts (rw, then ro) opened the volume with the 1 MiB budget.
            Assert.That(log.Split('\n').Count(l => l.Contains("volume opened: ") && l.EndsWith(", metadata cache 1024 KiB", StringComparison.Ordinal)), Is.EqualTo(2), context);
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public void WithoutTheOptionTheEngineDefaultApplies()
    {
        TestEnvironment.RequireMountEnvironment();
        string work = Directory.CreateTempSubdirectory("safemount-cache-").FullName;
        try
        {
            string image = TestImages.Build(work, new ImageLayout("cache-default", [], "64M", 10, false, 9));
            CommandResult r;
            string log;
            using (var activator = new SocketActivator(work))
            {
                r = Mounts.TryMount(image, work, "rw", activator);
                activator.AssertServicesExit(TimeSpan.FromSeconds(15));
                log = activator.Log;
            }

            string context = $"{r}\nservice log:\n{log}";
            Assert.That(r.StdOut, Does.EndWith("exit=0\n"), context);
            Assert.That(log, Does.Contain($", metadata cache {Safemount.Ext4.Ext4OpenOptions.DefaultCacheBytes >> 10} KiB\n"), context);
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
