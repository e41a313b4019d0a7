import * as $protobuf from "protobufjs";
import Long = require("long");

/** Namespace s2. */
export namespace s2 {

    /** Namespace v1. */
    namespace v1 {

        /**
         * Properties of a StreamPosition.
         * @deprecated Use s2.v1.StreamPosition.$Properties instead.
         */
        interface IStreamPosition extends s2.v1.StreamPosition.$Properties {
        }

        /** Represents a StreamPosition. */
        class StreamPosition {

            /**
             * Constructs a new StreamPosition.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.StreamPosition.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** StreamPosition seqNum. */
            seqNum: (number|Long);

            /** StreamPosition timestamp. */
            timestamp: (number|Long);

            /**
             * Encodes the specified StreamPosition message. Does not implicitly {@link s2.v1.StreamPosition.verify|verify} messages.
             * @param message StreamPosition message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.StreamPosition.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a StreamPosition message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.StreamPosition & s2.v1.StreamPosition.$Shape} StreamPosition
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.StreamPosition & s2.v1.StreamPosition.$Shape;
        }

        namespace StreamPosition {

            /** Properties of a StreamPosition. */
            interface $Properties {

                /** StreamPosition seqNum */
                seqNum?: (number|Long|null);

                /** StreamPosition timestamp */
                timestamp?: (number|Long|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a StreamPosition. */
            type $Shape = s2.v1.StreamPosition.$Properties;
        }

        /**
         * Properties of a Header.
         * @deprecated Use s2.v1.Header.$Properties instead.
         */
        interface IHeader extends s2.v1.Header.$Properties {
        }

        /** Represents a Header. */
        class Header {

            /**
             * Constructs a new Header.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.Header.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** Header name. */
            name: Uint8Array;

            /** Header value. */
            value: Uint8Array;

            /**
             * Encodes the specified Header message. Does not implicitly {@link s2.v1.Header.verify|verify} messages.
             * @param message Header message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.Header.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Header message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.Header & s2.v1.Header.$Shape} Header
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.Header & s2.v1.Header.$Shape;
        }

        namespace Header {

            /** Properties of a Header. */
            interface $Properties {

                /** Header name */
                name?: (Uint8Array|null);

                /** Header value */
                value?: (Uint8Array|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a Header. */
            type $Shape = s2.v1.Header.$Properties;
        }

        /**
         * Properties of an AppendRecord.
         * @deprecated Use s2.v1.AppendRecord.$Properties instead.
         */
        interface IAppendRecord extends s2.v1.AppendRecord.$Properties {
        }

        /** Represents an AppendRecord. */
        class AppendRecord {

            /**
             * Constructs a new AppendRecord.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.AppendRecord.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** AppendRecord timestamp. */
            timestamp?: (number|Long|null);

            /** AppendRecord headers. */
            headers: s2.v1.Header.$Properties[];

            /** AppendRecord body. */
            body: Uint8Array;

            /**
             * Encodes the specified AppendRecord message. Does not implicitly {@link s2.v1.AppendRecord.verify|verify} messages.
             * @param message AppendRecord message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.AppendRecord.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an AppendRecord message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.AppendRecord & s2.v1.AppendRecord.$Shape} AppendRecord
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.AppendRecord & s2.v1.AppendRecord.$Shape;
        }

        namespace AppendRecord {

            /** Properties of an AppendRecord. */
            interface $Properties {

                /** AppendRecord timestamp */
                timestamp?: (number|Long|null);

                /** AppendRecord headers */
                headers?: (s2.v1.Header.$Properties[]|null);

                /** AppendRecord body */
                body?: (Uint8Array|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of an AppendRecord. */
            type $Shape = s2.v1.AppendRecord.$Properties;
        }

        /**
         * Properties of an AppendInput.
         * @deprecated Use s2.v1.AppendInput.$Properties instead.
         */
        interface IAppendInput extends s2.v1.AppendInput.$Properties {
        }

        /** Represents an AppendInput. */
        class AppendInput {

            /**
             * Constructs a new AppendInput.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.AppendInput.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** AppendInput records. */
            records: s2.v1.AppendRecord.$Properties[];

            /** AppendInput matchSeqNum. */
            matchSeqNum?: (number|Long|null);

            /** AppendInput fencingToken. */
            fencingToken?: (string|null);

            /**
             * Encodes the specified AppendInput message. Does not implicitly {@link s2.v1.AppendInput.verify|verify} messages.
             * @param message AppendInput message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.AppendInput.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an AppendInput message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.AppendInput & s2.v1.AppendInput.$Shape} AppendInput
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.AppendInput & s2.v1.AppendInput.$Shape;
        }

        namespace AppendInput {

            /** Properties of an AppendInput. */
            interface $Properties {

                /** AppendInput records */
                records?: (s2.v1.AppendRecord.$Properties[]|null);

                /** AppendInput matchSeqNum */
                matchSeqNum?: (number|Long|null);

                /** AppendInput fencingToken */
                fencingToken?: (string|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of an AppendInput. */
            type $Shape = s2.v1.AppendInput.$Properties;
        }

        /**
         * Properties of an AppendAck.
         * @deprecated Use s2.v1.AppendAck.$Properties instead.
         */
        interface IAppendAck extends s2.v1.AppendAck.$Properties {
        }

        /** Represents an AppendAck. */
        class AppendAck {

            /**
             * Constructs a new AppendAck.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.AppendAck.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** AppendAck start. */
            start?: (s2.v1.StreamPosition.$Properties|null);

            /** AppendAck end. */
            end?: (s2.v1.StreamPosition.$Properties|null);

            /** AppendAck tail. */
            tail?: (s2.v1.StreamPosition.$Properties|null);

            /**
             * Encodes the specified AppendAck message. Does not implicitly {@link s2.v1.AppendAck.verify|verify} messages.
             * @param message AppendAck message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.AppendAck.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an AppendAck message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.AppendAck & s2.v1.AppendAck.$Shape} AppendAck
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.AppendAck & s2.v1.AppendAck.$Shape;
        }

        namespace AppendAck {

            /** Properties of an AppendAck. */
            interface $Properties {

                /** AppendAck start */
                start?: (s2.v1.StreamPosition.$Properties|null);

                /** AppendAck end */
                end?: (s2.v1.StreamPosition.$Properties|null);

                /** AppendAck tail */
                tail?: (s2.v1.StreamPosition.$Properties|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of an AppendAck. */
            type $Shape = s2.v1.AppendAck.$Properties;
        }

        /**
         * Properties of a SequencedRecord.
         * @deprecated Use s2.v1.SequencedRecord.$Properties instead.
         */
        interface ISequencedRecord extends s2.v1.SequencedRecord.$Properties {
        }

        /** Represents a SequencedRecord. */
        class SequencedRecord {

            /**
             * Constructs a new SequencedRecord.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.SequencedRecord.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** SequencedRecord seqNum. */
            seqNum: (number|Long);

            /** SequencedRecord timestamp. */
            timestamp: (number|Long);

            /** SequencedRecord headers. */
            headers: s2.v1.Header.$Properties[];

            /** SequencedRecord body. */
            body: Uint8Array;

            /**
             * Encodes the specified SequencedRecord message. Does not implicitly {@link s2.v1.SequencedRecord.verify|verify} messages.
             * @param message SequencedRecord message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.SequencedRecord.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a SequencedRecord message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.SequencedRecord & s2.v1.SequencedRecord.$Shape} SequencedRecord
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.SequencedRecord & s2.v1.SequencedRecord.$Shape;
        }

        namespace SequencedRecord {

            /** Properties of a SequencedRecord. */
            interface $Properties {

                /** SequencedRecord seqNum */
                seqNum?: (number|Long|null);

                /** SequencedRecord timestamp */
                timestamp?: (number|Long|null);

                /** SequencedRecord headers */
                headers?: (s2.v1.Header.$Properties[]|null);

                /** SequencedRecord body */
                body?: (Uint8Array|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a SequencedRecord. */
            type $Shape = s2.v1.SequencedRecord.$Properties;
        }

        /**
         * Properties of a ReadBatch.
         * @deprecated Use s2.v1.ReadBatch.$Properties instead.
         */
        interface IReadBatch extends s2.v1.ReadBatch.$Properties {
        }

        /** Represents a ReadBatch. */
        class ReadBatch {

            /**
             * Constructs a new ReadBatch.
             * @param [properties] Properties to set
             */
            constructor(properties?: s2.v1.ReadBatch.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** ReadBatch records. */
            records: s2.v1.SequencedRecord.$Properties[];

            /** ReadBatch tail. */
            tail?: (s2.v1.StreamPosition.$Properties|null);

            /**
             * Encodes the specified ReadBatch message. Does not implicitly {@link s2.v1.ReadBatch.verify|verify} messages.
             * @param message ReadBatch message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: s2.v1.ReadBatch.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a ReadBatch message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {s2.v1.ReadBatch & s2.v1.ReadBatch.$Shape} ReadBatch
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): s2.v1.ReadBatch & s2.v1.ReadBatch.$Shape;
        }

        namespace ReadBatch {

            /** Properties of a ReadBatch. */
            interface $Properties {

                /** ReadBatch records */
                records?: (s2.v1.SequencedRecord.$Properties[]|null);

                /** ReadBatch tail */
                tail?: (s2.v1.StreamPosition.$Properties|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a ReadBatch. */
            type $Shape = s2.v1.ReadBatch.$Properties;
        }
    }
}
