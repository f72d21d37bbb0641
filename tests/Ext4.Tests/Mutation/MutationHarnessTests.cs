using System.Globalization;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// Issue 3, hostile images: seeded, reproducible mutation of real images (mkfs.ext4 -d and a
/// kernel-written one) in every layout, walked through every engine entry point under a time
/// and an allocation bound. Acceptable outcomes are Clean, TypedError (Ext4CorruptionException,
/// Ext4ChecksumException, Ext4IOException) and Refused (Ext4MountException); anything else
/// fails the test with the layout and seed that reproduce it (MutationJob.Make).
/// SAFEMOUNT_MUTATION_SCALE multiplies the number of random images (default 1: about 10,200).
/// </summary>
[NonParallelizable]
public class MutationHarnessTests
{
    private static double Scale =>
        double.TryParse(Environment.GetEnvironmentVariable("SAFEMOUNT_MUTATION_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 1;

    /// <summary>The layouts the bulk tests use: the kernel-written one only as root (it needs a loop mount).</summary>
    private static IEnumerable<BaseLayout> Layouts => BaseLayout.All.Where(l => !l.KernelWritten || IsRoot.Value);

    private static readonly Lazy<bool> IsRoot = new(() => Tool.Check("id", "-u").Trim() == "0");

    private static IEnumerable<string> LayoutNames => BaseLayout.All.Select(l => l.Name);

    private static BaseLayout Layout(string name) => BaseLayout.All.Single(l => l.Name == name);

    [Test]
    public void BaseImagesWalkCleanAndTheirMetadataIsSystemZone([ValueSource(nameof(LayoutNames))] string layout)
    {
        var b = BaseImage.Get(Layout(layout));
        var r = TreeWalker.Walk(new MemoryBlockDevice(b.Bytes), new byte[65536], b.InodesCount);
        Assert.That(r.Unexpected, Is.Null);
        Assert.That(r.Kind, Is.EqualTo(OutcomeKind.Clean), string.Join(", ", r.TypedErrors.Keys));
        Assert.That(b.Inodes.Count, Is.GreaterThan(400));
        Assert.That(b.OfKind(RegionKind.Inode).Count(), Is.EqualTo(b.Inodes.Count));

        // Every block dumpe2fs calls metadata is in the engine's system zone, and no file maps one.
        using var v = Ext4Volume.Open(new MemoryBlockDevice(b.Bytes), new Ext4OpenOptions());
        var zone = v.Zone;
        foreach (var region in b.Regions.Where(x => x.Kind is RegionKind.Superblock or RegionKind.BackupSuperblock or RegionKind.GroupDescriptors or RegionKind.BlockBitmap or RegionKind.InodeBitmap or RegionKind.Inode))
        {
            Assert.That(zone.IsValid(region.Block, 1, 11), Is.False, $"{region} must be system zone");
        }

        foreach (var region in b.Regions.Where(x => x.Kind is RegionKind.ExtentBlock or RegionKind.DirLeaf or RegionKind.DxRoot or RegionKind.DxNode or RegionKind.XattrBlock or RegionKind.SymlinkBlock or RegionKind.IndirectBlock))
        {
            Assert.That(zone.IsValid(region.Block, 1, region.Owner), Is.True, $"{region} is file metadata, not system zone");
        }

        TestContext.Out.WriteLine($"{layout}: {b.Regions.Count} metadata regions, {b.Inodes.Count} inodes, system zone {zone.Count} runs");
    }

    [Test]
    public void RandomMutationsGiveOnlyTypedOutcomes()
    {
        var jobs = new List<MutationJob>();
        foreach (var layout in Layouts)
        {
            BaseImage.Get(layout); // build outside the timed, threaded part
            int n = (int)Math.Round(layout.Images * Scale);
            for (int seed = 0; seed < n; seed++)
            {
                jobs.Add(new MutationJob(layout, seed));
            }
        }

        var tally = MutationRunner.Run(jobs);
        TestContext.Out.WriteLine(tally.Report());
        Assert.That(tally.Failures, Is.Empty, string.Join("\n\n", tally.Failures.Take(5)));
        Assert.That(tally.Images, Is.EqualTo(jobs.Count));
        Assert.That(tally.Images, Is.GreaterThanOrEqualTo(Scale >= 1 && IsRoot.Value ? 10_000 : 1));
        // The mutations must reach the parsers: every class occurs, and sealed images get past the checksums.
        Assert.That(tally.Count(OutcomeKind.TypedError), Is.GreaterThan(jobs.Count / 10));
        Assert.That(tally.Count(OutcomeKind.Refused), Is.GreaterThan(0));
        Assert.That(tally.Count(OutcomeKind.Clean), Is.GreaterThan(0));
        Assert.That(tally.Sealed, Is.InRange(jobs.Count * 4 / 10, jobs.Count * 7 / 10), "about half the images are re-sealed");
    }

    private static IEnumerable<string> Constructions => HostileConstructions.All.Select(c => c.Name);

    [Test]
    public void NamedConstructions([ValueSource(nameof(Constructions))] string construction)
    {
        var jobs = new List<MutationJob>();
        foreach (var layout in Layouts)
        {
            BaseImage.Get(layout);
            for (int seed = 0; seed < 6; seed++)
            {
                jobs.Add(new MutationJob(layout, seed, construction));
            }
        }

        var tally = MutationRunner.Run(jobs);
        TestContext.Out.WriteLine(tally.Report());
        Assert.That(tally.Failures, Is.Empty, string.Join("\n\n", tally.Failures.Take(5)));
        Assert.That(tally.CountFor(construction, OutcomeKind.Clean) + tally.CountFor(construction, OutcomeKind.TypedError) + tally.CountFor(construction, OutcomeKind.Refused),
            Is.GreaterThan(0), "the construction applies to at least one layout");
    }

    private static IEnumerable<string> MetadataTargets => ["superblock", "gdt", "inode-table", "bitmap", "journal"];

    /// <summary>"Bytes from outside the file": a file whose first extent (or block pointer) names a metadata block must fail to read with a corruption error, checksums all correct.</summary>
    [Test]
    public void FileDataNeverComesFromMetadata([ValueSource(nameof(LayoutNames))] string layout, [ValueSource(nameof(MetadataTargets))] string target)
    {
        var b = BaseImage.Get(Layout(layout));
        var img = new MutatedImage(b);
        string name = $"extent-leaf-into-{target}";
        bool applied = HostileConstructions.All.Single(c => c.Name == name).Apply(img, new Random(1));
        if (!applied)
        {
            Assert.That(target, Is.EqualTo("journal"), "only the journal may be missing (ext2)");
            Assert.That(b.Inodes.Values.Any(f => f.Parent == 0), Is.False);
            return;
        }

        ChecksumFixer.Fix(img);
        var file = HostileConstructions.FirstDataFile(b)!;
        using var v = Ext4Volume.Open(img, new Ext4OpenOptions());
        var inode = v.ReadInode(file.Ino);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Read(inode, 0, new byte[4096]), string.Join("; ", img.Log))!;
        // Block 0 (the primary superblock with 4 KiB blocks) is refused as at or below s_first_data_block.
        Assert.That(e.Message, Does.Contain("system zone").Or.Contain("outside the file system"));
    }

    /// <summary>
    /// Replays one image named by a failure report on this thread, printing its edits and
    /// every typed error: SAFEMOUNT_MUTATION_REPRO="layout:seed" or "layout:seed:construction".
    /// </summary>
    [Test]
    [Explicit("replays the image named by SAFEMOUNT_MUTATION_REPRO")]
    public void Reproduce()
    {
        string spec = Environment.GetEnvironmentVariable("SAFEMOUNT_MUTATION_REPRO") ?? throw new InvalidOperationException("set SAFEMOUNT_MUTATION_REPRO=layout:seed[:construction]");
        var parts = spec.Split(':');
        var job = new MutationJob(Layout(parts[0]), int.Parse(parts[1], CultureInfo.InvariantCulture), parts.Length > 2 ? parts[2] : null);
        var img = job.Make(out string strategy);
        TestContext.Out.WriteLine($"{job} [{strategy}]");
        foreach (var line in img.Log)
        {
            TestContext.Out.WriteLine($"  edit: {line}");
        }

        var r = TreeWalker.Walk(img, new byte[65536], img.Base.InodesCount);
        TestContext.Out.WriteLine($"outcome {r.Kind} {r.RefusedBecause}");
        foreach (var (k, n) in r.TypedErrors)
        {
            TestContext.Out.WriteLine($"  {n} x {k}");
        }

        Assert.That(r.Unexpected, Is.Null);
    }
}
