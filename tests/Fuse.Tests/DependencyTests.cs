using Safemount.Fuse;

namespace Safemount.Fuse.Tests;

/// <summary>STYLE.md rule 9: the FUSE layer knows nothing of ext4.</summary>
public class DependencyTests
{
    [Test]
    public void FuseAssemblyReferencesNoExt4Assembly()
    {
        var references = typeof(FuseSession).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.That(references, Does.Contain("Safemount.Shared"));
        Assert.That(references.Where(n => n is not null && n.Contains("Ext4", StringComparison.OrdinalIgnoreCase)), Is.Empty);
    }

    [Test]
    public void FuseAssemblyDeclaresNoPInvoke()
    {
        var pinvokes = typeof(FuseSession).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & System.Reflection.MethodAttributes.PinvokeImpl) != 0)
            .Select(m => $"{m.DeclaringType}.{m.Name}");
        Assert.That(pinvokes, Is.Empty, "P/Invoke lives in src/Shared/Interop only");
    }
}
