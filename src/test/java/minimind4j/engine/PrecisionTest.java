package minimind4j.engine;

import minimind4j.UserError;
import minimind4j.model.MiniMindLM;
import minimind4j.model.ModelConfig;
import minimind4j.model.RandomBatch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.*;

/** --device/--dtype resolution as MiniMind's scripts do it, and the autocast region the trainer opens around forward. */
class PrecisionTest {
    @Test
    void aDtypeMeansWhatItSaysOnACpu() {
        for (String dtype : new String[]{"float32", "fp32", "float"}) {
            Precision p = Precision.resolve("cpu", dtype, -1);
            assertNull(p.autocast(), dtype);
            assertFalse(p.gradScaler(), dtype);
            assertEquals("cpu, fp32", p.describe());
            assertEquals("float32", p.dtypeName());
        }
        assertEquals("bfloat16", Precision.resolve("cpu", "bf16", -1).dtypeName());
        assertEquals("float16", Precision.resolve("cpu", "half", -1).dtypeName());
        Precision bf = Precision.resolve("cpu", "bfloat16", -1);
        assertEquals(ScalarType.BFloat16.value, bf.autocast().value);
        assertFalse(bf.gradScaler());
        Precision fp16 = Precision.resolve("CPU", "fp16", -1);
        assertEquals(ScalarType.Half.value, fp16.autocast().value);
        assertTrue(fp16.gradScaler(), "float16 autocast needs loss scaling, as MiniMind's GradScaler(enabled=dtype=='float16')");
        assertEquals("cpu, fp16 autocast with loss scaling", fp16.describe());
    }

    @Test
    void badFlagsAreOneLineErrorsThatSayWhatIsAccepted() {
        UserError d = assertThrows(UserError.class, () -> Precision.resolve("tpu", "bfloat16", -1));
        assertEquals("--device tpu: expected cpu, cuda or cuda:N", d.getMessage());
        UserError t = assertThrows(UserError.class, () -> Precision.resolve("cpu", "int8", -1));
        assertEquals("--dtype int8: expected auto, bfloat16, float16 or float32", t.getMessage());
    }

    @Test
    void appleMpsIsRefusedInOneLineThatSaysWhyAndWhatToPass() {
        for (String device : new String[]{"mps", "MPS", "mps:0"}) {
            UserError e = assertThrows(UserError.class, () -> Precision.resolve(device, "bfloat16", -1));
            String m = e.getMessage();
            assertTrue(m.startsWith("--device " + device + ": not available: "), m);
            assertTrue(m.endsWith("; pass --device cpu"), m);
            assertFalse(m.contains("\n"), m);
            // the reason follows what libtorch itself reports: no Metal device off Apple silicon
            assertEquals(Torch.mpsAvailable(), m.contains("has not been run on it yet"), m);
        }
        if (!System.getProperty("os.name").startsWith("Mac"))
            assertFalse(Torch.mpsAvailable(), "libtorch reports an Apple Metal device on " + System.getProperty("os.name"));
    }

    @Test
    void cudaResolvesToTheLocalRanksDeviceOrSaysWhyItCannot() {
        if (!Torch.cudaAvailable()) {
            UserError e = assertThrows(UserError.class, () -> Precision.resolve("cuda:0", "bfloat16", -1));
            assertTrue(e.getMessage().startsWith("--device cuda:0: libtorch sees no CUDA device"), e.getMessage());
            assertTrue(e.getMessage().contains("-Pgpu"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        } else {
            Precision p = Precision.resolve("cuda:0", "bfloat16", -1);
            assertEquals("cuda:0, bf16 autocast", p.describe());
            // a distributed worker takes cuda:LOCAL_RANK, as MiniMind's init_distributed_mode does
            assertEquals("cuda:0", Precision.resolve("cuda:5", "float32", 0).deviceName());
            UserError e = assertThrows(UserError.class, () -> Precision.resolve("cuda:99", "bfloat16", -1));
            assertTrue(e.getMessage().contains("CUDA device(s) are visible"), e.getMessage());
        }
    }

    @Test
    void autocastRunsLinearInBfloat16AndRestoresTheStateOnClose() {
        try (PointerScope s = Torch.scope()) {
            Tensor x = Torch.floats(new float[]{1, 2, 3, 4}, 2, 2), w = Torch.floats(new float[]{0.5f, 0, 0, 0.25f}, 2, 2);
            assertFalse(Autocast.enabled(DeviceType.CPU));
            try (Autocast outer = Autocast.enter(DeviceType.CPU, ScalarType.BFloat16)) {
                assertTrue(Torch.is(Torch.linear(x, w), ScalarType.BFloat16));
                try (Autocast inner = Autocast.enter(DeviceType.CPU, ScalarType.Half)) {
                    assertTrue(Torch.is(Torch.linear(x, w), ScalarType.Half));
                }
                assertTrue(Torch.is(Torch.linear(x, w), ScalarType.BFloat16), "the outer region's type is back");
            }
            assertFalse(Autocast.enabled(DeviceType.CPU));
            assertTrue(Torch.is(Torch.linear(x, w), ScalarType.Float));
        }
    }

    @Test
    void modelLossUnderBf16AutocastIsCloseToFp32AndGradientsStayFp32() {
        ModelConfig c = ModelConfig.minimind2(64, 2, false).withVocabSize(128).withHeads(4, 2);
        RandomBatch batch = RandomBatch.of(128, 2, 24, 8, 3);
        long[] ids = batch.ids(), labels = batch.labels();
        Precision bf16 = Precision.resolve("cpu", "bfloat16", -1);
        try (PointerScope s = Torch.scope(); MiniMindLM m = MiniMindLM.init(c, 4)) {
            double fp32 = m.loss(Torch.longs(ids, 2, 24), Torch.longs(labels, 2, 24)).total().item_double();
            MiniMindLM.Loss l;
            try (Precision.Region region = bf16.autocastRegion()) {
                l = m.loss(Torch.longs(ids, 2, 24), Torch.longs(labels, 2, 24));
            }
            double low = l.total().item_double();
            assertNotEquals(fp32, low, "the forward must actually have run in bf16");
            assertEquals(fp32, low, 0.02 * fp32, "bf16 loss " + low + " vs fp32 " + fp32);
            l.total().backward();
            for (Tensor p : m.namedParameters().values()) {
                assertTrue(Torch.is(p, ScalarType.Float));
                assertTrue(Torch.is(p.grad(), ScalarType.Float), "master weights and their gradients stay fp32");
            }
        }
    }
}
