// Property tests draw from a fixed seed so that CI is reproducible; set FC_SEED to explore
// other cases (a failure prints the seed and the shrunk counterexample to replay it).
import fc from 'fast-check';

const seed = Number(process.env['FC_SEED'] ?? 20261128);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
