using System.Reflection;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>The layering of ARCHITECTURE.md, enforced on the compiled assemblies.</summary>
[TestFixture]
public sealed class ArchitectureTests
{
    private static Assembly Load(string name) => Assembly.Load(new AssemblyName(name));

    private static IEnumerable<string> References(string name) =>
        Load(name).GetReferencedAssemblies().Select(a => a.Name ?? string.Empty);

    [Test]
    public void FuseAndExt4NeverReferenceEachOther()
    {
        Assert.That(References("Safemount.Fuse"), Has.None.EqualTo("Safemount.Ext4"));
        Assert.That(References("Safemount.Ext4"), Has.None.EqualTo("Safemount.Fuse"));
    }

    [Test]
    public void Ext4EngineUsesNoInteropAndNoSockets()
    {
        Assert.That(References("Safemount.Ext4"), Has.None.EqualTo("Safemount.Shared"));
        Assembly ext4 = Load("Safemount.Ext4");
        var pinvokes = ext4.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0 || m.GetCustomAttributes().Any(a => a.GetType().Name == "LibraryImportAttribute"))
            .Select(m => m.DeclaringType + "." + m.Name);
        Assert.That(pinvokes, Is.Empty);
    }

    [Test]
    public void NativeDeclarationsLiveOnlyInSharedInterop()
    {
        foreach (string name in new[] { "Safemount.Fuse", "Safemount.Ext4", "safemount-ext4", "Safemount.Shared" })
        {
            var outside = Load(name).GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
                .Where(m => m.DeclaringType?.Namespace != "Safemount.Shared.Interop")
                .Select(m => m.DeclaringType + "." + m.Name);
            Assert.That(outside, Is.Empty, $"P/Invoke outside Safemount.Shared.Interop in {name}");
        }
    }
}
