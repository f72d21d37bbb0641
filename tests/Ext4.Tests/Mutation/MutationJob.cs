namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// One mutated image, fully determined by (layout, seed): the seed picks the strategy (byte
/// flips, field-aware, or a named construction), the edits, and whether the checksums are
/// re-sealed afterwards. <see cref="Make"/> therefore reproduces an image from its name alone.
/// </summary>
internal sealed record MutationJob(BaseLayout Layout, int Seed, string? Construction = null)
{
    public override string ToString() => Construction == null ? $"{Layout.Name} seed {Seed}" : $"{Layout.Name} {Construction} seed {Seed}";

    public MutatedImage Make(out string strategy)
    {
        var b = BaseImage.Get(Layout);
        var img = new MutatedImage(b);
        var rng = new Random(HashCode.Combine(Seed, Layout.Name.Length, Layout.Name[0], Layout.Name[^1]) ^ Seed);
        bool seal;
        if (Construction != null)
        {
            var c = HostileConstructions.All.Single(x => x.Name == Construction);
            strategy = c.Apply(img, rng) ? c.Name : "not applicable";
            seal = true;
        }
        else
        {
            switch (Seed % 10)
            {
                case < 4:
                    Mutator.ByteFlips(img, rng);
                    strategy = "bytes";
                    break;
                case < 8:
                    Mutator.Fields(img, rng);
                    strategy = "fields";
                    break;
                default:
                    var c = HostileConstructions.All[rng.Next(HostileConstructions.All.Length)];
                    strategy = c.Apply(img, rng) ? c.Name : "fields";
                    if (strategy == "fields")
                    {
                        Mutator.Fields(img, rng);
                    }

                    break;
            }

            seal = (Seed & 1) == 1 || Seed % 10 >= 8;
        }

        if (seal)
        {
            ChecksumFixer.Fix(img);
            strategy += "+sealed";
        }

        return img;
    }
}
