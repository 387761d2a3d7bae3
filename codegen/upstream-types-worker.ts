/** Worker thread entry: prints upstream types for the spec object it is given. */
import { parentPort, workerData } from "node:worker_threads";
import { printUpstreamTypes, type TypesSource } from "./upstream-types.js";

parentPort!.postMessage(await printUpstreamTypes(workerData as TypesSource));
