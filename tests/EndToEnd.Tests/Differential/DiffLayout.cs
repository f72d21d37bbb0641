using System.Text.Json;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests.Differential;

/// <summary>The image layout a seed selects. difftest-populate.py owns the list (`layout SEED`
/// prints it as JSON), so the mkfs line and the workload always agree on the layout.</summary>
/// <param name="Name">layout name, also the image label</param>
/// <param name="Size">image size as mkfs.ext4 takes it</param>
/// <param name="Mkfs">mkfs.ext4 arguments that select the layout</param>
/// <param name="Tune2fs">tune2fs arguments applied after mkfs (e.g. `-E hash_alg=tea`), or none</param>
internal sealed record DiffLayout(string Name, string Size, string[] Mkfs, string[] Tune2fs)
{
    public static string PopulateScript => Path.Combine(TestEnvironment.ScriptsDir, "difftest-populate.py");

    public static DiffLayout ForSeed(int seed)
    {
        CommandResult r = Command.Run("python3", [PopulateScript, "layout", seed.ToString()], TimeSpan.FromSeconds(30));
        Assert.That(r.ExitCode, Is.Zero, $"difftest-populate.py layout {seed}: {r}");
        using JsonDocument doc = JsonDocument.Parse(r.StdOut);
        JsonElement root = doc.RootElement;
        return new DiffLayout(
            root.GetProperty("name").GetString()!,
            root.GetProperty("size").GetString()!,
            root.GetProperty("mkfs").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("tune2fs").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    /// <summary>mkfs.ext4 arguments for IMAGE, in the order they are run.</summary>
    public List<string> MkfsArguments(string image)
    {
        var args = new List<string> { "-q", "-F", "-L", Name };
        args.AddRange(Mkfs);
        args.Add(image);
        args.Add(Size);
        return args;
    }
}
